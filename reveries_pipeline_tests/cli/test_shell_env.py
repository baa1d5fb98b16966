"""`reveries env`: the exports that put `dg` and `dagster` commands on `reveries dev`'s instance."""

from __future__ import annotations

import shlex

from click.testing import CliRunner
from dagster import DagsterInstance

from reveries_pipeline.cli import main


def exports(output: str) -> dict[str, str]:
    pairs = (shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in output.splitlines())
    return dict(pairs)


def test_exports_the_project_instance_and_never_a_configured_pg_url(tmp_path):
    secret_url = "postgresql://dagster:s3cret-pw@db.internal:5432/dagster"
    env = {"REVERIES_HOME": str(tmp_path), "DAGSTER_HOME": None, "DAGSTER_PG_URL": secret_url}
    result = CliRunner().invoke(main, ["env"], env=env)
    assert result.exit_code == 0, result.output
    assert "s3cret-pw" not in result.output
    assert exports(result.output) == {"REVERIES_HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    instance_yaml = (tmp_path / "dagster_home" / "dagster.yaml").read_text()
    assert "max_concurrent_runs: 4" in instance_yaml  # the project's settings
    assert "env: DAGSTER_PG_URL" in instance_yaml  # plus PostgreSQL storage


def test_on_the_embedded_default_the_exports_reach_its_postgresql_instance(tmp_path, monkeypatch):
    # The command starts the embedded server; this process holds it until it exits (as reveries dev does).
    env = {"REVERIES_HOME": str(tmp_path), "DAGSTER_HOME": None, "DAGSTER_PG_URL": None}
    result = CliRunner().invoke(main, ["env"], env=env)
    assert result.exit_code == 0, result.output
    exported = exports(result.output)
    assert exported["DAGSTER_PG_URL"].startswith("postgresql+psycopg2://postgres:@/dagster?host=")
    for name, value in exported.items():
        monkeypatch.setenv(name, value)
    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.get_runs(limit=1) == []
