"""Lay out one deployment's Dagster+ configuration where `dg plus deploy` reads it.

`dg plus deploy` takes the image registry from build.yaml and the code location's container context
(role, secrets, buckets) from container_context.yaml, both at the project root, and the location's
name and module from pyproject.toml's [tool.dg.project]. Production and branch deployments need
different roles and secrets, kept in dagster_cloud.yaml and dagster_cloud_branch.yaml (the files
terraform and the tests check); this writes the chosen one's two parts, after checking that it
names the same location and module as the dg project, so a deploy can't land in another location.

    python deploy/dagster_plus/select_config.py dagster_cloud_branch.yaml   # from the project root

Needs PyYAML (the project's venv has it).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def dg_project(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dg"]["project"]


def select(cloud_yaml: Path, root: Path = PROJECT_ROOT) -> tuple[Path, Path]:
    """Write `root`/build.yaml and `root`/container_context.yaml from `cloud_yaml`'s one location."""
    (location,) = yaml.safe_load(cloud_yaml.read_text())["locations"]
    project = dg_project(root)
    expected = (project["code_location_name"], project["code_location_target_module"])
    found = (location["location_name"], location["code_source"]["module_name"])
    if found != expected:
        raise SystemExit(f"{cloud_yaml.name} deploys location/module {found}, the dg project is {expected}")
    build, context = root / "build.yaml", root / "container_context.yaml"
    build.write_text(yaml.safe_dump(location["build"], sort_keys=False))
    context.write_text(yaml.safe_dump(location["container_context"], sort_keys=False))
    return build, context


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: select_config.py dagster_cloud.yaml|dagster_cloud_branch.yaml")
    for path in select(Path(sys.argv[1]).resolve()):
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
