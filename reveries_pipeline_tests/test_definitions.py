"""The code location as operators meet it: definitions, environments, and the external etl_job command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from reveries_pipeline.catalog import STAR_TABLE_NAMES
from reveries_pipeline.endpoints import ConfigurationError, Deployment, deployment
from reveries_pipeline.environment import build_resources
from reveries_pipeline.totesys.schema import TOTESYS_TABLES

ROOT = Path(__file__).resolve().parent.parent
DAGSTER = str(Path(sys.executable).with_name("dagster"))


def test_definitions_hold_the_three_stages_jobs_schedule_and_sensors():
    from reveries_pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {"/".join(k.path) for k in graph.get_all_asset_keys()}
    assert {f"raw/{t}" for t in TOTESYS_TABLES} <= keys
    assert {f"{stage}/{t}" for stage in ("processed", "warehouse") for t in STAR_TABLE_NAMES} <= keys
    # plus the deletion markers beside the reference schema, processed and loaded
    assert {"processed/reveries_deleted_rows", "warehouse/reveries_deleted_rows"} <= keys
    # and the ECB's FX rates, a daily-partitioned reference asset stored in the warehouse
    assert "reference/fx_rates" in keys
    assert len(keys) == 36  # every key tells its stage: raw/, processed/, warehouse/, reference/
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {"raw", "processed", "warehouse", "reference"}
    for job in ("ingestion_job", "processing_job", "warehouse_job", "etl_job", "fx_rates_job"):
        assert defs.resolve_job_def(job)
    assert defs.resolve_schedule_def("fx_rates_schedule").cron_schedule == "30 0 * * *"
    assert defs.resolve_schedule_def("ingestion_schedule").cron_schedule == "*/10 * * * *"
    assert defs.resolve_schedule_def("deleted_rows_schedule").cron_schedule == "17 * * * *"
    for sensor in (
        "source_change_sensor",
        "raw_batches_sensor",
        "processed_batches_sensor",
        "failure_alert_sensor",
    ):
        assert defs.resolve_sensor_def(sensor)
    assert defs.resolve_sensor_def("source_change_sensor").job_name == "etl_job"


def test_dagster_validates_the_code_location():
    out = subprocess.run(
        [DAGSTER, "definitions", "validate", "-m", "reveries_pipeline.definitions"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]


def test_schedule_requests_ingestion_runs():
    # when it launches and when it skips: reveries_pipeline_tests/ingestion/test_source_sensor.py
    from reveries_pipeline.ingestion.schedule import ingestion_schedule

    assert ingestion_schedule.job_name == "ingestion_job"


def test_local_environment_falls_back_to_the_embedded_default_for_what_is_unset():
    env = {"WAREHOUSE_DSN": "postgresql://u:secret@db.example/wh", "INGESTION_BUCKET_URL": "s3://raw-bucket"}
    assert deployment(env) is Deployment.LOCAL
    resources = build_resources(env)
    assert resources["totesys"].dsn == "" and resources["totesys"].embedded_database == "totesys"
    assert resources["ingestion_lake"].url == "s3://raw-bucket"
    assert resources["processed_lake"].url.endswith(os.path.join("lake", "processed"))


def test_branch_deployment_uses_per_pr_prefixes_and_its_own_schema():
    env = {
        "DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT": "1",
        "DAGSTER_CLOUD_PULL_REQUEST_ID": "42",
        "TOTESYS_DSN": "postgresql://r@src/totesys",
        "WAREHOUSE_DSN": "postgresql://w@wh/warehouse",
        "INGESTION_BUCKET_URL": "s3://raw",
        "PROCESSED_BUCKET_URL": "s3://processed/base",
    }
    assert deployment(env) is Deployment.BRANCH
    resources = build_resources(env)
    assert resources["ingestion_lake"].url == "s3://raw/branches/pr-42"
    assert resources["processed_lake"].url == "s3://processed/base/branches/pr-42"
    assert resources["warehouse"].schema_name == "pr_42"
    assert resources["totesys"].schema_name == ""


def test_prod_takes_everything_from_secrets_and_never_falls_back():
    env = {"DAGSTER_CLOUD_DEPLOYMENT_NAME": "prod", "TOTESYS_DSN": "postgresql://r@src/totesys"}
    assert deployment(env) is Deployment.PROD
    with pytest.raises(ConfigurationError, match="WAREHOUSE_DSN"):
        build_resources(env)
    env.update(WAREHOUSE_DSN="postgresql://w@wh/w", INGESTION_BUCKET_URL="s3://a", PROCESSED_BUCKET_URL="s3://b")
    resources = build_resources(env)
    assert resources["warehouse"].schema_name == "" and resources["ingestion_lake"].url == "s3://a"


def _external_etl(env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"} | env
    return subprocess.run(
        [DAGSTER, "job", "execute", "-m", "reveries_pipeline.definitions", "-j", "etl_job"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full,
        timeout=300,
    )


def test_external_etl_command_with_s3_buckets_and_a_unix_socket_dsn(
    seeded_source, warehouse_dsn, s3_endpoint, make_database, tmp_path
):
    from reveries_pipeline_tests.support import new_s3_bucket

    assert "?host=/" in seeded_source  # the embedded server is reached through a unix socket
    env = {
        "TOTESYS_DSN": seeded_source,
        "WAREHOUSE_DSN": warehouse_dsn,
        "INGESTION_BUCKET_URL": new_s3_bucket(s3_endpoint, "raw"),
        "PROCESSED_BUCKET_URL": new_s3_bucket(s3_endpoint, "processed") + "/star",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "REVERIES_HOME": str(tmp_path),
    }
    first = _external_etl(env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "RUN_SUCCESS" in first.stderr + first.stdout
    with psycopg.connect(warehouse_dsn) as wh, psycopg.connect(seeded_source) as src:
        n = src.execute("SELECT count(*) FROM sales_order").fetchone()[0]
        assert wh.execute("SELECT count(*) FROM fact_sales_order").fetchone()[0] == n
        ledger = wh.execute("SELECT count(*) FROM reveries_load_ledger").fetchone()[0]
    assert not list(Path(tmp_path).glob("lake/*/*/*"))  # nothing went to local folders
    second = _external_etl(env)
    assert second.returncode == 0, second.stderr[-3000:]
    with psycopg.connect(warehouse_dsn) as wh:
        assert wh.execute("SELECT count(*) FROM fact_sales_order").fetchone()[0] == n
        assert wh.execute("SELECT count(*) FROM reveries_load_ledger").fetchone()[0] == ledger


def test_persistent_instance_is_the_project_settings_on_postgres(make_database, tmp_path, monkeypatch):
    from dagster import DagsterInstance, job, op

    from reveries_pipeline.dagster_instance import PROJECT_INSTANCE_YAML, prepare_dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    written = prepare_dagster_home(tmp_path / "dagster_home", make_database("dagster"))  # plain postgresql://
    assert os.environ["DAGSTER_PG_URL"].startswith("postgresql+psycopg2://")
    assert written.read_text().startswith(PROJECT_INSTANCE_YAML.read_text().rstrip())

    @op
    def hello():
        return 1

    @job
    def tiny():
        hello()

    with DagsterInstance.get() as instance:
        assert type(instance.run_storage).__module__.startswith("dagster_postgres")
        # queued runs (source_change_sensor's) are picked up every second, under the project's limits
        assert instance.run_coordinator.dequeue_interval_seconds == 1
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4
        result = tiny.execute_in_process(instance=instance)
        assert result.success
    # the run is there for the next process that opens the instance
    with DagsterInstance.get() as again:
        assert again.get_run_by_id(result.run_id).is_success


def test_throwaway_instance_config_has_no_private_storage_class():
    text = (ROOT / "dagster.yaml").read_text()
    assert "storage:" not in text and "module:" not in text


@pytest.mark.parametrize("attempts", ["abc", "0", "-3", "1000"])
def test_a_bad_aws_max_attempts_is_refused_with_its_name(attempts):
    with pytest.raises(
        ConfigurationError, match=f"AWS_MAX_ATTEMPTS must be a whole number from 1 to 50, not '{attempts}'"
    ):
        build_resources({"AWS_MAX_ATTEMPTS": attempts})


@pytest.mark.parametrize(("value", "mode"), [(None, "poll"), ("", "poll"), ("poll", "poll"), (" Logical ", "logical")])
def test_totesys_capture_picks_the_capture_mode(value, mode):
    from reveries_pipeline.environment import build_resources

    env = {} if value is None else {"TOTESYS_CAPTURE": value}
    assert build_resources(env)["totesys_capture"].mode.value == mode


def test_an_unknown_totesys_capture_fails_naming_the_values():
    from reveries_pipeline.endpoints import ConfigurationError
    from reveries_pipeline.environment import build_resources

    with pytest.raises(ConfigurationError, match=r"TOTESYS_CAPTURE must be one of poll, logical, not 'wal'"):
        build_resources({"TOTESYS_CAPTURE": "wal"})
