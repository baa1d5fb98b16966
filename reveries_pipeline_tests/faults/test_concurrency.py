"""Two loads at once, and a reader holding a transaction open across a load."""

import psycopg
import pytest

from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source

pytestmark = pytest.mark.faults


def test_two_concurrent_loads_serialise(world):
    world.change_source(orders=20)
    runs = [world.start("etl_job"), world.start("etl_job")]
    outputs = [run.communicate(timeout=240)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-4000:]
        assert "Deadlock" not in output
    assert_warehouse_matches_source(world)


def test_an_open_reader_does_not_block_a_load(world):
    with psycopg.connect(world.warehouse_dsn, application_name="analyst-notebook") as reader:
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        (before,) = reader.execute("SELECT count(*) FROM fact_sales_order_current").fetchone()
        world.change_source(orders=20)
        run = world.run("etl_job", timeout=120)
        assert run.ok, run.tail()
        assert reader.execute("SELECT count(*) FROM fact_sales_order_current").fetchone() == (before,)
        reader.rollback()
    (after,) = world.warehouse("SELECT count(*) FROM fact_sales_order_current")[0]
    assert after > before
    assert_warehouse_matches_source(world)
