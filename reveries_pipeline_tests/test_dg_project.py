"""The repository is a `dg` project: `dg check defs` passes and `dg list defs --json` lists the same
assets, checks, jobs, schedules and sensors as the code-location snapshot (test_code_location.py), so
`dg` and `dagster dev` / workspace.yaml load one and the same code location.

One `dg` call of each kind for the whole module: each costs a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reveries_pipeline_tests.support import subprocess_env
from reveries_pipeline_tests.test_code_location import SNAPSHOT

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DG = str(Path(sys.executable).parent / "dg")


def run_dg(*args: str, reveries_home: Path) -> subprocess.CompletedProcess:
    """`dg <args>` from the repository root, as a user runs it: no Dagster instance of the test runner's,
    the embedded default in a folder of the test's own."""
    env = subprocess_env(REVERIES_HOME=str(reveries_home))
    return subprocess.run([DG, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def listed(tmp_path_factory) -> dict:
    result = run_dg("list", "defs", "--json", reveries_home=tmp_path_factory.mktemp("reveries"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text())


def test_dg_check_defs_passes(tmp_path):
    result = run_dg("check", "defs", reveries_home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout
    assert "Warning" not in result.stdout + result.stderr  # e.g. the unactivated-venv warning pyproject turns off


def test_dg_lists_the_snapshots_assets_with_their_groups_deps_and_kinds(listed, snapshot):
    assets = {
        a["asset_key"]: {"group": a["group_name"], "deps": sorted(a["dependency_keys"]), "kinds": sorted(a["kinds"])}
        for a in listed["assets"]
    }
    expected = {key: {k: a[k] for k in ("group", "deps", "kinds")} for key, a in snapshot["assets"].items()}
    assert assets == expected


def test_dg_lists_the_snapshots_asset_checks(listed, snapshot):
    checks = sorted((c["asset_key"], c["name"]) for c in listed["asset_checks"])
    expected = sorted((key, check) for key, a in snapshot["assets"].items() for check in a["checks"])
    assert checks == expected


def test_dg_lists_the_snapshots_jobs_schedules_and_sensors(listed, snapshot):
    assert sorted(j["name"] for j in listed["jobs"]) == sorted(snapshot["jobs"])
    assert {s["name"]: s["cron_schedule"] for s in listed["schedules"]} == {
        name: s["cron"] for name, s in snapshot["schedules"].items()
    }
    assert sorted(s["name"] for s in listed["sensors"]) == sorted(snapshot["sensors"])
    assert sorted(r["name"] for r in listed["resources"]) == sorted(snapshot["resources"])
