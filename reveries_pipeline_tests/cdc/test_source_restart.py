"""A source that restarts while logical mode's ingestion step is capturing: the step's RetryPolicy
reads again once the server is back, and every change arrives exactly once. On a server of this
module's own: restarting the shared one would cut off every other test."""

from __future__ import annotations

import os
import uuid

import polars as pl
import psycopg
import pytest

from reveries_pipeline.embedded import ensure_database
from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.logical import LogicalCaptureSettings, drop_sql
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.totesys.schema import apply_totesys_ddl
from reveries_pipeline_tests.ingestion.logical.support import blocked_on_a_lock, insert_base_rows
from reveries_pipeline_tests.ingestion.raw_lake import all_rows
from reveries_pipeline_tests.pipeline_harness import Pipeline
from reveries_pipeline_tests.waiting import Worker, wait_until

BACKLOG = 2_000


@pytest.fixture
def source(own_server):
    database = f"restart_{os.urandom(4).hex()}"
    ensure_database(own_server.get_uri("postgres"), database)
    dsn = own_server.get_uri(database)
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_totesys_ddl(conn)
        insert_base_rows(conn)
    suffix = uuid.uuid4().hex[:10]
    capture = TotesysCapture(mode="logical", publication=f"pub_{suffix}", slot=f"slot_{suffix}")
    yield dsn, capture
    own_server.ensure_postgres_running()
    PostgresResource.close_pools()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(drop_sql(LogicalCaptureSettings(capture.publication, capture.slot)))


def test_a_restart_mid_capture_is_retried_and_every_change_arrives_once(own_server, source, tmp_path):
    dsn, capture = source
    stores = [ObjectStore(url=str(tmp_path / name)) for name in ("ingestion", "processed")]
    pipe = Pipeline(dsn, own_server.get_uri("postgres"), *stores, capture)  # ingestion only: no warehouse
    assert pipe.ingest().success  # the snapshot; the slot exists from here on
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO department (department_name, last_updated) SELECT 'B' || n, now()"
            " FROM generate_series(1, %s) n",
            (BACKLOG,),
        )
    locker = psycopg.connect(dsn)  # holds the capture at its first read of the tables
    locker.execute("LOCK TABLE staff IN ACCESS EXCLUSIVE MODE")
    run = Worker(pipe.ingest, name="ingestion").start()
    with psycopg.connect(dsn, autocommit=True) as watcher:
        database = watcher.info.dbname
        wait_until(lambda: blocked_on_a_lock(watcher, database), "the capture to wait on the lock", timeout=120,
                   watching=[run])  # fmt: skip
    own_server.stop()  # a fast shutdown: the capture's session is cut off, and the locker's
    own_server.ensure_postgres_running()
    locker.close()

    result = run.result(timeout=240)
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retries, "the step was never retried: the restart did not cut the capture off"
    names = all_rows(stores[0], "department").filter(pl.col("_op") == "insert")["department_name"].to_list()
    assert names == [f"B{n}" for n in range(1, BACKLOG + 1)]  # each once, in commit order
