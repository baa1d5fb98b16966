"""The benchmarks package: run as modules (no sys.path edits), timing a run's steps from Dagster's event
log, and reconciling the warehouse with its own `reconciles_with_source` check."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import psycopg
from dagster import DagsterInstance, job, op

from benchmarks.floor import run_floor
from benchmarks.job_runs import run_timed
from benchmarks.process_tree import run_sampled
from benchmarks.scale_world import reconcile_facts
from benchmarks.step_times import newest_run_step_seconds, step_seconds
from reveries_pipeline.catalog import STAR_TABLE_NAMES
from reveries_pipeline.warehouse.report import row_counts
from reveries_pipeline_tests.faults.harness import FaultWorld

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
ETL_STEPS = {"raw_totesys_tables", "star_schema_tables", "warehouse_tables"}
# A new sales order, a copy of the first one: the source then has one more than the warehouse loaded.
NEW_ORDER = (
    "INSERT INTO sales_order (created_at, last_updated, design_id, staff_id, counterparty_id, units_sold,"
    " unit_price, currency_id, agreed_delivery_date, agreed_payment_date, agreed_delivery_location_id)"
    " SELECT now(), now(), design_id, staff_id, counterparty_id, units_sold, unit_price, currency_id,"
    " agreed_delivery_date, agreed_payment_date, agreed_delivery_location_id"
    " FROM sales_order ORDER BY sales_order_id LIMIT 1"
)


def test_no_benchmark_edits_sys_path():
    edits = [
        f"{path.name}:{node.lineno}"
        for path in sorted(BENCHMARKS.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys"
    ]
    assert edits == []


@op
def fine() -> int:
    return 1


@op
def broken(value: int) -> int:
    raise RuntimeError(f"step fails on {value}")


@job
def half_failing():
    broken(fine())


def test_step_times_are_those_of_the_steps_that_succeeded_in_the_event_log():
    instance = DagsterInstance.ephemeral()
    result = half_failing.execute_in_process(instance=instance, raise_on_error=False)

    seconds = step_seconds(instance, result.run_id)

    assert set(seconds) == {"fine"}
    assert seconds["fine"] >= 0


def test_step_times_of_a_finished_process_come_from_its_instance_folder(tmp_path):
    """What `--runner dagster` reads once `dagster job execute` has exited: the job's newest run."""
    assert newest_run_step_seconds(tmp_path, "half_failing") == {}
    with DagsterInstance.local_temp(tempdir=str(tmp_path)) as instance:
        half_failing.execute_in_process(instance=instance, raise_on_error=False)

    assert set(newest_run_step_seconds(tmp_path, "half_failing")) == {"fine"}


def test_a_timed_run_reads_its_step_times_from_the_runs_events(world, tmp_path):
    log = tmp_path / "etl.log"

    run = run_timed(world, "etl_job", "reveries", log)

    assert run.ok, run.tail()
    assert set(run.steps) == ETL_STEPS
    assert "warehouse_tables" in log.read_text()


def test_reconciliation_is_the_warehouse_check_per_fact(world):
    (orders,) = world.source("SELECT count(*) FROM sales_order")[0]
    loaded = {row["fact"]: row for row in reconcile_facts(world)}
    assert all(row["ok"] for row in loaded.values()), loaded
    assert loaded["fact_sales_order"]["distinct_ids"] == loaded["fact_sales_order"]["source_rows"] == orders

    world.source(NEW_ORDER)
    after = {row["fact"]: row for row in reconcile_facts(world)}

    assert not after["fact_sales_order"]["ok"]
    assert after["fact_sales_order"]["source_rows"] == orders + 1
    assert after["fact_payment"]["ok"]


def test_reconciliation_of_a_warehouse_never_loaded_matches_nothing(world, make_database):
    empty = FaultWorld(world.totesys_dsn, make_database("empty"), world.ingestion_url, world.processed_url, world.home)

    rows = reconcile_facts(empty)

    assert [row["ok"] for row in rows] == [False, False, False]
    assert all(row["rows"] is None and row["distinct_ids"] is None for row in rows)


def test_the_floor_moves_every_row_the_pipeline_loaded(world, make_database, tmp_path):
    """The floor's warehouse holds the same star rows as the world's, loaded by etl_job from the same
    source (scale 0.05): every source row exported, modelled and COPYed in."""
    floor_warehouse = make_database("floor")

    floor = run_floor(world.totesys_dsn, floor_warehouse, tmp_path / "lake")

    (orders,) = world.source("SELECT count(*) FROM sales_order")[0]
    assert floor["source_rows"]["sales_order"] == orders
    with psycopg.connect(floor_warehouse) as floor_conn, psycopg.connect(world.warehouse_dsn) as loaded_conn:
        floor_rows, loaded_rows = row_counts(floor_conn), row_counts(loaded_conn)
    assert {t: floor_rows[t] for t in STAR_TABLE_NAMES} == {t: loaded_rows[t] for t in STAR_TABLE_NAMES}
    assert floor["star_rows"] == {t: loaded_rows[t] for t in STAR_TABLE_NAMES}
    assert floor_rows["fact_sales_order"] == orders


def test_the_process_tree_peak_counts_a_childs_memory(tmp_path):
    """A parent that holds little and starts a child holding 200 MB: the tree's peak has the child's."""
    child = "b = bytearray(200 << 20); import time; time.sleep(1.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"

    run, peak_mb = run_sampled([sys.executable, "-c", parent], dict(os.environ), tmp_path / "tree.log")

    assert run.ok, run.output
    assert peak_mb >= 200
