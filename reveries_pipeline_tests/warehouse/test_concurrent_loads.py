"""Two warehouse loads at once, as two real `dagster job execute` processes: they serialise cleanly.

The race is made deterministic instead of repeated: the first load is held mid-load (after it has
written some dimensions and ledger rows, before the facts) by a session holding a SHARE lock on a
later dimension, the second is started then, and both are released together once both wait. That
is the interleaving in which per-load DDL (CREATE INDEX's SHARE locks on the facts) deadlocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from reveries_pipeline.lake.batch_keys import is_batch_key
from reveries_pipeline.warehouse.schema import FACT_VERSION_KEY, WAREHOUSE_TABLES

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).with_name("dagster"))


def _start_warehouse_job(pipeline, home: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "AWS_"))}
    env.update(
        TOTESYS_DSN=pipeline.totesys_dsn,
        WAREHOUSE_DSN=pipeline.warehouse_dsn,
        INGESTION_BUCKET_URL=pipeline.ingestion.url,
        PROCESSED_BUCKET_URL=pipeline.processed.url,
        REVERIES_HOME=str(home),  # never the developer's embedded default
    )
    in_process = home / "in_process.yaml"  # no per-step process: ~2.5 s less per run
    in_process.write_text("execution:\n  config:\n    in_process: {}\n")
    return subprocess.Popen(  # noqa: S603 - fixed argv
        [
            DAGSTER,
            "job",
            "execute",
            "-m",
            "reveries_pipeline.definitions",
            "-j",
            "warehouse_job",
            "-c",
            str(in_process),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_waiters(gate: psycopg.Connection, count: int, runs: list[subprocess.Popen], timeout: float = 60) -> bool:
    """Whether `count` other sessions of this database came to wait for a lock (False: a run ended first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(run.poll() is None for run in runs):
        (waiting,) = gate.execute(
            "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
        if waiting >= count:
            return True
        time.sleep(0.05)
    return False


def _finish(runs: list[subprocess.Popen]) -> list[tuple[int, str]]:
    results = []
    for run in runs:
        try:
            output, _ = run.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            run.kill()
            output, _ = run.communicate()
        results.append((run.returncode, output))
    return results


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_two_loads_at_once_serialise_without_deadlock_or_duplicates(pipeline, tmp_path):
    pipeline.etl()
    # A change touching dimensions before and after the gate, and a fact.
    address_id = pipeline.source("SELECT legal_address_id FROM counterparty ORDER BY 1 LIMIT 1")[0][0]
    pipeline.source(
        "UPDATE address SET phone = '0111 111111', last_updated = now() WHERE address_id = %s", (address_id,)
    )
    pipeline.source("UPDATE sales_order SET units_sold = 31, last_updated = now() WHERE sales_order_id <= 5")
    pipeline.ingest()
    pipeline.process()

    runs: list[subprocess.Popen] = []
    with psycopg.connect(pipeline.warehouse_dsn, autocommit=True) as gate:
        gate.execute("BEGIN")
        gate.execute("LOCK TABLE dim_counterparty IN SHARE MODE")  # the first load stops here
        try:
            runs.append(_start_warehouse_job(pipeline, tmp_path))
            held = _wait_for_waiters(gate, 1, runs)
            runs.append(_start_warehouse_job(pipeline, tmp_path))
            both_held = held and _wait_for_waiters(gate, 2, runs)
        finally:
            gate.execute("ROLLBACK")
        results = _finish(runs)

    for returncode, output in results:
        assert returncode == 0, output[-4000:]
        assert "Deadlock" not in output
    assert both_held, "the race was not set up: " + results[0][1][-3000:]
    # One loaded the change, the other found it in the ledger and applied nothing.
    applied = sorted("warehouse/fact_sales_order: applied 1 batches" in output for _, output in results)
    assert applied == [False, True], [output[-3000:] for _, output in results]
    for fact, version in FACT_VERSION_KEY.items():
        cols = ", ".join(version)
        twice = pipeline.warehouse(f"SELECT {cols} FROM {fact} GROUP BY {cols} HAVING count(*) > 1")  # noqa: S608
        assert twice == [], fact
    processed = {
        o.key for t in WAREHOUSE_TABLES for o in pipeline.processed.list_objects(f"{t}/") if is_batch_key(o.key, t)
    }
    assert {k for (k,) in pipeline.warehouse("SELECT batch_key FROM reveries_load_ledger")} == processed
    assert pipeline.warehouse("SELECT count(*) FROM fact_sales_order_current WHERE units_sold = 31") == [(5,)]
    assert pipeline.warehouse("SELECT count(*) FROM dim_location WHERE phone = '0111 111111'") == [(1,)]
