"""The hourly delete reconciliation, poll mode's backstop: it runs etl_job reconciling every table
unless no delete was counted since the last such run; logical mode skips it."""

from __future__ import annotations

import psycopg
import pytest
from dagster import build_schedule_context, instance_for_test, job, op, validate_run_config

from reveries_pipeline.ingestion.assets import reconcile_run_config
from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.schedule import deleted_rows_schedule
from reveries_pipeline.ingestion.source_sensor import FINGERPRINT_TAG, RECONCILE_TAG
from reveries_pipeline.resources import PostgresResource
from reveries_pipeline_tests.waiting import wait_until


@op
def noop():
    return None


@job(name="etl_job")
def finished_reconciliation():
    noop()


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


def evaluate(instance, dsn, capture=None):
    resources = {"totesys": PostgresResource(dsn=dsn), "totesys_capture": capture or TotesysCapture()}
    with build_schedule_context(instance=instance, resources=resources) as context:
        return deleted_rows_schedule(context)


def test_reconciles_every_table_until_one_ran_then_only_after_a_delete(instance, seeded_source):
    from reveries_pipeline.definitions import defs

    first = evaluate(instance, seeded_source)
    assert deleted_rows_schedule.job_name == "etl_job"
    assert first.run_config == reconcile_run_config() and first.tags[RECONCILE_TAG] == "all"
    validate_run_config(defs.resolve_job_def("etl_job"), first.run_config)

    finished_reconciliation.execute_in_process(instance=instance, tags=first.tags)
    assert "no row deleted" in evaluate(instance, seeded_source).skip_message

    with psycopg.connect(seeded_source) as conn:
        conn.execute("DELETE FROM payment WHERE payment_id = (SELECT min(payment_id) FROM payment)")

    def launches() -> bool:  # the counter is published at the deleting backend's commit
        return not hasattr(evaluate(instance, seeded_source), "skip_message")

    wait_until(launches, "the delete to show in pg_stat_user_tables", timeout=30)
    again = evaluate(instance, seeded_source)
    assert again.run_config == reconcile_run_config() and again.tags[FINGERPRINT_TAG] != first.tags[FINGERPRINT_TAG]


def test_logical_mode_skips_it(instance, seeded_source):
    skipped = evaluate(instance, seeded_source, TotesysCapture(mode="logical"))
    assert "logical mode" in skipped.skip_message
