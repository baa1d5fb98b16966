"""`dg plus deploy` gets each deployment's own configuration: deploy/dagster_plus/select_config.py lays
out build.yaml and container_context.yaml from dagster_cloud.yaml (prod) or dagster_cloud_branch.yaml
(pull requests), and refuses a file that would deploy another location than the dg project's. And CI
runs `dg check defs`."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _select_config():
    spec = importlib.util.spec_from_file_location("select_config", ROOT / "deploy/dagster_plus/select_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ("pyproject.toml", "dagster_cloud.yaml", "dagster_cloud_branch.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("cloud_yaml", ["dagster_cloud.yaml", "dagster_cloud_branch.yaml"])
def test_each_deployment_gets_its_own_registry_and_container_context(project, cloud_yaml):
    build, context = _select_config().select(project / cloud_yaml, root=project)
    (location,) = yaml.safe_load((project / cloud_yaml).read_text())["locations"]
    assert yaml.safe_load(build.read_text()) == location["build"]
    assert yaml.safe_load(context.read_text()) == location["container_context"]


def test_branch_and_prod_contexts_never_share_a_role(project):
    select = _select_config().select
    _, prod = select(project / "dagster_cloud.yaml", root=project)
    prod_role = yaml.safe_load(prod.read_text())["ecs"]["task_role_arn"]
    _, branch = select(project / "dagster_cloud_branch.yaml", root=project)
    assert yaml.safe_load(branch.read_text())["ecs"]["task_role_arn"] != prod_role


def test_a_file_for_another_location_is_refused(project):
    cloud = project / "dagster_cloud.yaml"
    cloud.write_text(cloud.read_text().replace("location_name: reveries", "location_name: elsewhere"))
    with pytest.raises(SystemExit, match="elsewhere"):
        _select_config().select(cloud, root=project)
    assert not (project / "container_context.yaml").exists()


def test_the_dg_project_is_the_location_every_deployment_names():
    project = _select_config().dg_project(ROOT)
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"][0]["python_module"]
    assert (workspace["location_name"], workspace["module_name"]) == (
        project["code_location_name"],
        project["code_location_target_module"],
    )


def test_ci_runs_dg_check_defs():
    assert "make check-defs" in (ROOT / ".ci/run").read_text()
    assert "make check-defs" in (ROOT / ".github/workflows/ci.yml").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "check-defs: $(STAMP)" in makefile and "\t$(BIN)/dg check defs" in makefile
