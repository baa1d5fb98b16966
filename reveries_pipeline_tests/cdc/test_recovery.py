"""Logical mode on a bad day, through `reveries run` in real subprocesses: a kill -9 between storing
the batches and confirming the slot. (A slot dropped under the pipeline, and the re-snapshot command
its error prints, pasted verbatim, are the runbook's case: operations/test_runbook.py.)"""

from __future__ import annotations

import psycopg
import pytest

from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.logical import drop_sql
from reveries_pipeline.resources import PostgresResource
from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source
from reveries_pipeline_tests.pipeline_harness import Pipeline

pytestmark = pytest.mark.faults


def _slot_position(world) -> str | None:
    rows = world.source("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'reveries'")
    return rows[0][0] if rows else None


@pytest.fixture
def logical_world(world):
    """The loaded world switched to logical capture; its first run snapshots every table. The slot
    (named `reveries`, as by default) is dropped afterwards: slots are cluster-wide and hold WAL."""
    world.extra_env["TOTESYS_CAPTURE"] = "logical"
    # the snapshot in process (a subprocess adds ~4 s of start-up); the slot is the default `reveries`
    logical = TotesysCapture(mode="logical")
    assert Pipeline(world.totesys_dsn, world.warehouse_dsn, world.ingestion, world.processed, logical).etl().success
    PostgresResource.close_pools()
    yield world
    with psycopg.connect(world.totesys_dsn, autocommit=True) as conn:
        conn.execute(drop_sql())


def test_kill_9_between_store_and_confirm_replays_and_loses_nothing(logical_world):
    world = logical_world
    confirmed = _slot_position(world)
    world.change_source()
    # killed once the first table's batch is stored, before every table is: the slot isn't confirmed
    killed = world.run("etl_job", kill_when=r"raw/\w+: wrote \d+ rows")
    assert killed.killed, killed.tail()
    assert _slot_position(world) == confirmed
    world.change_source()
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert _slot_position(world) != confirmed
    assert_warehouse_matches_source(world)
