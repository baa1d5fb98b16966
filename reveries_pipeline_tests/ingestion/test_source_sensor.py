"""source_change_sensor and the backstop schedule, against a real totesys and a real Dagster instance.

Poll mode reads pg_stat_user_tables counters, which a backend publishes at its commit (or exit), so a
change is awaited with a deadline rather than assumed visible at once.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
    job,
    op,
    validate_run_config,
)

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.assets import reconcile_run_config
from reveries_pipeline.ingestion.capture_mode import CaptureMode, TotesysCapture
from reveries_pipeline.ingestion.logical.settings import LogicalCaptureSettings
from reveries_pipeline.ingestion.logical.setup import drop_sql, ensure_publication_and_slot
from reveries_pipeline.ingestion.schedule import ingestion_schedule
from reveries_pipeline.ingestion.source_sensor import (
    FINGERPRINT_TAG,
    HEARTBEAT_BYTES,
    LOGICAL_FINGERPRINT,
    RECONCILE_TAG,
    source_change_sensor,
)
from reveries_pipeline.resources import PostgresResource
from reveries_pipeline_tests.support import free_port
from reveries_pipeline_tests.waiting import wait_until

POLL = TotesysCapture(mode=CaptureMode.POLL)


@op
def noop():
    return None


def fake_job(name: str):
    """A trivial job under a pipeline job's name: runs the sensor sees, without running the pipeline."""

    @job(name=name)
    def _job():
        noop()

    return _job


@pytest.fixture
def instance():
    """A real instance on disk (a schedule's context needs one it can reload)."""
    with instance_for_test() as instance:
        yield instance


def tick(instance, dsn, cursor=None, capture=POLL):
    resources = {"totesys": PostgresResource(dsn=dsn), "totesys_capture": capture}
    with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return source_change_sensor(context)


def launched(result) -> list[RunRequest]:
    return list(result.run_requests or []) if isinstance(result, SensorResult) else []


def bump_a_sales_order(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE sales_order SET units_sold = units_sold + 1, last_updated = now()"
            " WHERE sales_order_id = (SELECT min(sales_order_id) FROM sales_order)"
        )


def fingerprint_changes(dsn: str, before: str) -> str:
    """Wait until the counters differ from `before` (published at the writer's commit); the new value."""
    seen: list[str] = []

    def differs() -> bool:
        result = tick(DagsterInstance.ephemeral(), dsn, cursor=before)
        seen.append(result.cursor)
        return result.cursor != before

    wait_until(differs, "the sales_order update to show in pg_stat_user_tables", timeout=30)
    return seen[-1]


def test_poll_mode_launches_etl_job_once_per_change(instance, seeded_source):
    assert source_change_sensor.job_name == "etl_job"
    first = tick(instance, seeded_source)
    [request] = launched(first)  # a new daemon with no ingestion recorded: one run catches up
    assert set(json.loads(first.cursor)) == set(SOURCE_TABLE_NAMES)
    assert request.tags[FINGERPRINT_TAG] == first.cursor

    idle = tick(instance, seeded_source, cursor=first.cursor)
    assert not launched(idle) and idle.skip_reason is not None and idle.cursor == first.cursor

    bump_a_sales_order(seeded_source)
    after = fingerprint_changes(seeded_source, first.cursor)
    changed = tick(instance, seeded_source, cursor=first.cursor)
    [again] = launched(changed)
    assert changed.cursor == after and again.tags[FINGERPRINT_TAG] == after
    # [changes, deletes]: one more change, no delete, so nothing to reconcile
    assert json.loads(after)["sales_order"] == [json.loads(first.cursor)["sales_order"][0] + 1, 0]
    assert again.run_config == {} and RECONCILE_TAG not in again.tags


def test_poll_mode_reconciles_the_tables_a_delete_was_counted_in(instance, seeded_source):
    cursor = tick(instance, seeded_source).cursor
    with psycopg.connect(seeded_source) as conn:
        conn.execute("DELETE FROM payment WHERE payment_id = (SELECT min(payment_id) FROM payment)")
    fingerprint_changes(seeded_source, cursor)
    [request] = launched(tick(instance, seeded_source, cursor=cursor))
    assert request.run_config == reconcile_run_config(["payment"])
    assert request.tags[RECONCILE_TAG] == "payment"
    # the config is one etl_job accepts
    from reveries_pipeline.definitions import defs

    validate_run_config(defs.resolve_job_def("etl_job"), request.run_config)


def test_no_launch_while_an_ingestion_is_running_and_the_change_waits_for_it(instance, seeded_source):
    cursor = tick(instance, seeded_source).cursor
    bump_a_sales_order(seeded_source)
    fingerprint_changes(seeded_source, cursor)
    running = instance.create_run_for_job(fake_job("etl_job"), status=DagsterRunStatus.STARTED)
    waiting = tick(instance, seeded_source, cursor=cursor)
    assert isinstance(waiting, SkipReason) and running.run_id[:8] in waiting.skip_message  # cursor unchanged

    instance.report_run_failed(running)  # the run ends: the change made meanwhile launches now
    assert len(launched(tick(instance, seeded_source, cursor=cursor))) == 1


def test_a_restarted_daemon_launches_nothing_for_what_the_last_ingestion_took_in(instance, seeded_source):
    fingerprint = tick(instance, seeded_source).cursor
    fake_job("ingestion_job").execute_in_process(instance=instance, tags={FINGERPRINT_TAG: fingerprint})
    resumed = tick(instance, seeded_source, cursor=None)
    assert not launched(resumed) and resumed.cursor == fingerprint


def test_an_unreachable_source_is_a_skip_without_its_password(instance):
    password = f"pw-{uuid.uuid4().hex}"
    dsn = f"postgresql://reveries:{password}@127.0.0.1:{free_port()}/totesys?connect_timeout=2"
    result = tick(instance, dsn)
    assert isinstance(result, SkipReason)
    assert "totesys could not be read" in result.skip_message and password not in result.skip_message


# ---- logical mode


@pytest.fixture
def logical(seeded_source):
    """Publication and slot (unique names: slots are cluster-wide) on a seeded totesys."""
    settings = LogicalCaptureSettings(publication=f"pub_{uuid.uuid4().hex[:10]}", slot=f"slot_{uuid.uuid4().hex[:10]}")
    with psycopg.connect(seeded_source, autocommit=True) as conn:
        ensure_publication_and_slot(conn, settings)
    yield TotesysCapture(mode=CaptureMode.LOGICAL, publication=settings.publication, slot=settings.slot)
    with psycopg.connect(seeded_source, autocommit=True) as conn:
        conn.execute(drop_sql(settings))


def test_logical_mode_launches_for_the_initial_snapshot_then_for_committed_changes_only(
    instance, seeded_source, logical
):
    first = tick(instance, seeded_source, capture=logical)  # nothing ingested yet: the initial snapshot
    assert len(launched(first)) == 1 and first.cursor == LOGICAL_FINGERPRINT
    assert not launched(tick(instance, seeded_source, cursor=first.cursor, capture=logical))
    with psycopg.connect(seeded_source) as conn:
        conn.execute("UPDATE sales_order SET units_sold = units_sold + 1")
        conn.rollback()  # a rolled-back transaction is no change
    assert not launched(tick(instance, seeded_source, cursor=first.cursor, capture=logical))
    bump_a_sales_order(seeded_source)
    assert len(launched(tick(instance, seeded_source, cursor=first.cursor, capture=logical))) == 1


def test_a_restarted_logical_daemon_launches_only_for_pending_changes(instance, seeded_source, logical):
    fake_job("etl_job").execute_in_process(instance=instance, tags={FINGERPRINT_TAG: LOGICAL_FINGERPRINT})
    assert not launched(tick(instance, seeded_source, capture=logical))


def test_a_quiet_slot_is_moved_past_other_wal(instance, seeded_source, logical, make_database):
    def confirmed() -> str:
        with psycopg.connect(seeded_source) as conn:
            query = "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s"
            return conn.execute(query, (logical.slot,)).fetchone()[0]

    before = confirmed()
    with psycopg.connect(make_database("busy"), autocommit=True) as other:  # WAL of another database
        other.execute("CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 1) g")
        target = HEARTBEAT_BYTES * 1.2
        while (
            other.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (before,)).fetchone()[0] < target
        ):
            other.execute("INSERT INTO filler SELECT g, repeat('x', 500) FROM generate_series(1, 5000) g")
    assert not launched(tick(instance, seeded_source, cursor=LOGICAL_FINGERPRINT, capture=logical))
    assert confirmed() != before
    bump_a_sales_order(seeded_source)  # the move skipped nothing published
    assert len(launched(tick(instance, seeded_source, cursor=LOGICAL_FINGERPRINT, capture=logical))) == 1


# ---- the backstop schedule


def schedule_tick(instance, dsn, at: datetime):
    resources = {"totesys": PostgresResource(dsn=dsn), "totesys_capture": POLL}
    with build_schedule_context(instance=instance, scheduled_execution_time=at, resources=resources) as context:
        return ingestion_schedule(context)


def test_backstop_schedule_skips_when_recently_ingested_or_unchanged(instance, seeded_source):
    now = datetime.now(UTC)
    first = schedule_tick(instance, seeded_source, now)  # nothing ingested yet: it launches
    assert isinstance(first, RunRequest) and first.tags[FINGERPRINT_TAG]

    fake_job("etl_job").execute_in_process(instance=instance, tags=dict(first.tags))
    recent = schedule_tick(instance, seeded_source, now + timedelta(minutes=1))
    assert isinstance(recent, SkipReason) and "ingested" in recent.skip_message

    later = now + timedelta(minutes=11)
    unchanged = schedule_tick(instance, seeded_source, later)
    assert isinstance(unchanged, SkipReason) and "unchanged" in unchanged.skip_message

    bump_a_sales_order(seeded_source)  # a change the sensor missed (switched off, say)
    fingerprint_changes(seeded_source, first.tags[FINGERPRINT_TAG])
    missed = schedule_tick(instance, seeded_source, later)
    assert isinstance(missed, RunRequest) and missed.tags[FINGERPRINT_TAG] != first.tags[FINGERPRINT_TAG]
