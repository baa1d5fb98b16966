"""Replays with no change write nothing and change nothing."""

import pytest

from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source

pytestmark = pytest.mark.faults


def test_three_replays_with_no_change_write_nothing(world):
    buckets = world.bucket_snapshot()
    ledger = world.warehouse("SELECT batch_key FROM reveries_load_ledger ORDER BY 1")
    facts = world.warehouse("SELECT count(*) FROM fact_sales_order")
    for _ in range(3):
        run = world.run("etl_job")
        assert run.ok, run.tail()
    assert world.bucket_snapshot() == buckets
    assert world.warehouse("SELECT batch_key FROM reveries_load_ledger ORDER BY 1") == ledger
    assert world.warehouse("SELECT count(*) FROM fact_sales_order") == facts
    assert_warehouse_matches_source(world)
