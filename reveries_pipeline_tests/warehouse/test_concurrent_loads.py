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
from pathlib import Path

import psycopg
import pytest

from reveries_pipeline.lake.object_names import is_batch_key
from reveries_pipeline.warehouse.schema import FACT_VERSION_KEY, WAREHOUSE_TABLES
from reveries_pipeline_tests.waiting import WaitTimeout, wait_until

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).with_name("dagster"))


# Deadlines for a machine that is truly stuck, never a guess at how long a load takes: each step waits
# for an event (a session seen waiting in pg_locks, a process exiting) and fails fast if a load dies.
STUCK_S = 240


class WarehouseLoad:
    """`dagster job execute -j warehouse_job` in its own process, its output in a file (a pipe nobody
    reads while the test waits could fill up and stall it)."""

    def __init__(self, pipeline, home: Path, name: str):
        self.name, self.log = name, home / f"{name}.log"
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
        argv = [DAGSTER, "job", "execute", "-m", "reveries_pipeline.definitions", "-j", "warehouse_job"]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv
                [*argv, "-c", str(in_process)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text()

    def check_running(self, awaited: str) -> None:
        if self.process.poll() is not None:
            raise AssertionError(
                f"the {self.name} load exited ({self.process.returncode}) before {awaited}; "
                f"the race was not set up:\n{self.output()[-3000:]}"
            )

    def finish(self) -> tuple[int, str]:
        try:
            self.process.wait(timeout=STUCK_S)
        except subprocess.TimeoutExpired:
            raise WaitTimeout(f"the {self.name} load still ran after {STUCK_S} s:\n{self.output()[-3000:]}") from None
        return self.process.returncode, self.output()

    def stop(self) -> None:
        """Ends it if it still runs (a failed test leaves no dagster process behind)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _sessions_waiting_for_a_lock(gate: psycopg.Connection) -> int:
    (waiting,) = gate.execute(
        "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()
    return waiting


def _hold_both_loads_at_the_gate(pipeline, home: Path) -> list[WarehouseLoad]:
    """Start the first load, hold it at a lock until it is seen waiting, start the second, and release
    both once both wait: the interleaving under test, whatever the machine's speed."""
    loads: list[WarehouseLoad] = []
    try:
        with psycopg.connect(pipeline.warehouse_dsn, autocommit=True) as gate:
            gate.execute("BEGIN")
            gate.execute("LOCK TABLE dim_counterparty IN SHARE MODE")  # the first load stops here
            for name in ("first", "second"):
                loads.append(WarehouseLoad(pipeline, home, name))
                wait_until(
                    lambda: _sessions_waiting_for_a_lock(gate) >= len(loads),
                    f"the {name} load to wait for a lock",
                    timeout=STUCK_S,
                    watching=loads,
                )
            gate.execute("ROLLBACK")  # both released together
    except BaseException:
        for load in loads:
            load.stop()
        raise
    return loads


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

    loads = _hold_both_loads_at_the_gate(pipeline, tmp_path)
    try:
        results = [load.finish() for load in loads]
    finally:
        for load in loads:
            load.stop()
    for returncode, output in results:
        assert returncode == 0, output[-4000:]
        assert "Deadlock" not in output
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
