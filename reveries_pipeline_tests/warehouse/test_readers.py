"""Loads against readers: a reader's open transaction never stalls a load, and what must wait for it
(schema creation or migration, a rebuild's TRUNCATE) gives up within lock_timeout, naming the reader."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from dagster import Failure

from reveries_pipeline.warehouse import foreign_keys
from reveries_pipeline.warehouse.loader import load_batch, load_table_batches
from reveries_pipeline.warehouse.locks import WarehouseLockTimeout
from reveries_pipeline.warehouse.schema import (
    apply_warehouse_ddl,
    ensure_warehouse_schema,
    installed_schema_version,
    schema_version,
    warehouse_ddl,
)
from reveries_pipeline_tests.waiting import Worker, wait_until
from reveries_pipeline_tests.warehouse.expected_schema import EXPECTED_FKS, foreign_keys_of
from reveries_pipeline_tests.warehouse.frames import sales_frame, seed_dimensions

# A BI reader's question: the current orders with their converted values, and their history.
CURRENT_SALES = (
    "SELECT count(*) FROM fact_sales_order_reporting AS r JOIN fact_sales_order AS f USING (sales_record_id)"
)


@contextmanager
def open_reader(dsn: str, app: str = "bi-reader") -> Iterator[tuple[psycopg.Connection, int]]:
    """A second session that has read the sales views in a REPEATABLE READ transaction left open, as BI
    tools and pg_dump do; yields it and the count it saw."""
    with psycopg.connect(dsn, autocommit=True, application_name=app) as reader:
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        (count,) = reader.execute(CURRENT_SALES).fetchone()
        try:
            yield reader, count
        finally:
            if not reader.closed:  # a test may have ended the session
                reader.execute("ROLLBACK")


def assert_gave_up_after_the_lock_timeout(elapsed_s: float, lock_timeout_s: float) -> None:
    """It did wait for the lock (at least lock_timeout), then gave up instead of waiting on (well
    within 20 times it). Timing bounds only this wait, relative to its setting, never a whole run."""
    assert lock_timeout_s <= elapsed_s < 20 * lock_timeout_s, (elapsed_s, lock_timeout_s)


def sessions_blocked_by(conn: psycopg.Connection, pid: int) -> list[tuple[int, str]]:
    """(pid, query) of the sessions waiting for a lock that session `pid` holds."""
    return conn.execute(
        "SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (pid,)
    ).fetchall()


def _build_like_the_previous_code(dsn: str) -> None:
    """The schema as earlier code left it: ddl.sql applied, no recorded version."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(warehouse_ddl().encode())
        conn.execute("DROP TABLE reveries_schema_version")


# ---------------------------------------------------------------------------------------------
# The schema.


def test_the_schema_is_migrated_once_then_checked_without_ddl(warehouse_dsn):
    _build_like_the_previous_code(warehouse_dsn)
    with psycopg.connect(warehouse_dsn) as conn:
        assert installed_schema_version(conn) is None
        assert ensure_warehouse_schema(conn) is True
        conn.commit()
        assert installed_schema_version(conn) == schema_version()
    # Up to date: no DDL, so a reader's open transaction is no obstacle even with a tiny lock_timeout.
    with open_reader(warehouse_dsn), psycopg.connect(warehouse_dsn) as conn:
        assert ensure_warehouse_schema(conn, lock_timeout_s=0.05) is False


def test_a_migration_under_an_open_reader_fails_in_time_naming_the_reader(warehouse_dsn):
    _build_like_the_previous_code(warehouse_dsn)
    with open_reader(warehouse_dsn) as (reader, _), psycopg.connect(warehouse_dsn) as conn:
        started = time.perf_counter()
        with pytest.raises(WarehouseLockTimeout) as raised:
            ensure_warehouse_schema(conn, lock_timeout_s=0.5)
        assert_gave_up_after_the_lock_timeout(time.perf_counter() - started, 0.5)
        message = str(raised.value)
        assert f"pid {reader.info.backend_pid} " in message and "'bi-reader'" in message, message
        assert "idle in transaction" in message and "fact_sales_order_current" in message, message
        assert installed_schema_version(conn) is None  # nothing half-applied
        # the statement it prints ends the reader when pasted as it is
        statement = re.search(r"end them: (SELECT pg_terminate_backend.*?;)", message)[1]
        with psycopg.connect(warehouse_dsn, autocommit=True) as admin:
            assert admin.execute(statement).fetchall() == [(True,)]
        with pytest.raises(psycopg.OperationalError):
            reader.execute("SELECT 1")
    with psycopg.connect(warehouse_dsn) as conn:
        assert ensure_warehouse_schema(conn) is True  # the reader is gone


# ---------------------------------------------------------------------------------------------
# The optional foreign-key bulk paths degrade instead of waiting.


@pytest.mark.parametrize("into", ["an empty table", "a loaded table"])
def test_a_bulk_fact_load_under_an_open_reader_keeps_the_foreign_keys_instead_of_waiting(
    warehouse_dsn, monkeypatch, into
):
    monkeypatch.setattr(foreign_keys, "BULK_FK_MIN_ROWS", 1)  # every fact load would take the bulk path
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        seed_dimensions(conn)
        if into == "a loaded table":
            load_batch(conn, "fact_sales_order", "s/0.parquet", sales_frame([{"sales_order_id": 1}]))
    batch = ("s/1.parquet", sales_frame([{"sales_order_id": 2}, {"sales_order_id": 3}]))
    with open_reader(warehouse_dsn) as (reader, before):
        # statement_timeout: a load that waits for the reader fails the test instead of hanging it
        with psycopg.connect(warehouse_dsn, options="-c statement_timeout=20000") as conn:
            started = time.perf_counter()
            result = load_table_batches(conn, "fact_sales_order", [batch], lock_timeout_s=0.5)
            assert_gave_up_after_the_lock_timeout(time.perf_counter() - started, 0.5)
            assert conn.execute("SHOW lock_timeout").fetchone() == ("0",)  # not left set for the rest
            conn.commit()
        assert reader.execute(CURRENT_SALES).fetchone() == (before,)  # its snapshot, unchanged
        pid = reader.info.backend_pid
    assert result.rows_loaded == 2 and result.batches_applied == ["s/1.parquet"]
    note = result.kept_foreign_keys_because
    assert f"pid {pid} " in note and "'bi-reader'" in note and "foreign keys in place" in note, note
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute(CURRENT_SALES).fetchone() == (before + 2,)
        assert foreign_keys_of(conn, "fact_sales_order") == EXPECTED_FKS["fact_sales_order"]


# ---------------------------------------------------------------------------------------------
# The warehouse step, through Dagster.


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_an_incremental_load_finishes_while_a_reader_keeps_its_snapshot(pipeline):
    pipeline.etl()
    with open_reader(pipeline.warehouse_dsn) as (reader, before):
        pipeline.source("UPDATE sales_order SET units_sold = 4242, last_updated = now() WHERE sales_order_id <= 3")
        pipeline.ingest()
        pipeline.process()
        # A lock_timeout longer than any test: a lock conflicting with the reader would make the load wait,
        # which the watcher sees in pg_locks (no guess from how long the load takes).
        loading = Worker(lambda: pipeline.load_with(lock_timeout_seconds=600), name="load").start()
        blocked: list[tuple[int, str]] = []
        with psycopg.connect(pipeline.warehouse_dsn, autocommit=True) as watcher:

            def ended_or_blocked() -> bool:
                blocked[:] = sessions_blocked_by(watcher, reader.info.backend_pid)
                return bool(blocked) or not loading.is_alive()

            wait_until(ended_or_blocked, "the load to end or to wait for the reader", timeout=240)
        assert not blocked, f"the load waits for the reader's transaction: {blocked}"
        assert loading.result(timeout=240).success
        assert reader.execute(CURRENT_SALES).fetchone() == (before,)
        assert reader.execute("SELECT count(*) FROM fact_sales_order WHERE units_sold = 4242").fetchone() == (0,)
    assert pipeline.warehouse("SELECT count(*) FROM fact_sales_order_current WHERE units_sold = 4242") == [(3,)]
    assert pipeline.warehouse("SELECT count(*) FROM fact_sales_order")[0][0] == before + 3


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_migration_and_rebuild_under_an_open_reader_fail_naming_it(pipeline):
    pipeline.ingest()
    pipeline.process()
    _build_like_the_previous_code(pipeline.warehouse_dsn)
    with open_reader(pipeline.warehouse_dsn, app="nightly-report") as (reader, _):
        # No clock on the run: the configured lock_timeout is what it gave up after (a load that ignored it
        # would wait for the reader until the suite's pytest-timeout).
        with pytest.raises(Failure) as raised:
            pipeline.load_with(lock_timeout_seconds=1)
        described = raised.value.description
        assert "gave up after waiting 1s (lock_timeout)" in described, described
        assert f"pid {reader.info.backend_pid} " in described and "'nightly-report'" in described, described
        assert "migrating the warehouse schema" in described
    assert pipeline.load_with().success  # the reader is gone: migrated, then loaded
    assert pipeline.warehouse("SELECT version FROM reveries_schema_version") == [(schema_version(),)]
    facts = pipeline.warehouse("SELECT count(*) FROM fact_sales_order")[0][0]
    assert facts == pipeline.source("SELECT count(*) FROM sales_order")[0][0]

    with open_reader(pipeline.warehouse_dsn, app="nightly-report") as (reader, _):
        with pytest.raises(Failure) as raised:
            pipeline.load_with(rebuild=True, lock_timeout_seconds=1)
        described = raised.value.description
        assert f"pid {reader.info.backend_pid} " in described and "TRUNCATE" in described, described
        assert "gave up after waiting 1s (lock_timeout)" in described, described
    assert pipeline.warehouse("SELECT count(*) FROM fact_sales_order")[0][0] == facts
