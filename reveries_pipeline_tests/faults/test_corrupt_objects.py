"""A corrupt raw object and a corrupt processed object: named in the error, never costing the warehouse
its rows, and set aside with `reveries quarantine`, after which the next run recaptures what they held."""

import pytest

from reveries_pipeline_tests.faults.harness import newest_key, truncate_object
from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source

pytestmark = pytest.mark.faults


def _fact_rows(world) -> int:
    return world.warehouse("SELECT count(*) FROM fact_sales_order")[0][0]


def test_corrupt_raw_object_is_named_rebuild_keeps_the_warehouse_and_quarantine_recovers(world):
    world.change_source()
    assert world.run("ingestion_job").ok
    key = newest_key(world.ingestion, "sales_order/")
    truncate_object(world.ingestion, key)
    before = _fact_rows(world)

    failed = world.run("processing_job")
    assert failed.returncode != 0
    assert key in failed.output and world.ingestion_url in failed.output

    rebuild = world.run("rebuild_job")
    assert rebuild.returncode != 0 and key in rebuild.output
    assert _fact_rows(world) == before  # the failed rebuild emptied nothing

    quarantine = world.reveries("quarantine", "--bucket", world.ingestion_url, key, "--reason", "truncated upload")
    assert quarantine.ok, quarantine.output
    assert world.ingestion.get_bytes(f"_quarantine/{key}") is not None
    assert world.ingestion.get_bytes(key) is None

    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)


def test_corrupt_processed_object_is_named_and_quarantine_recovers(world):
    world.change_source()
    assert world.run("ingestion_job").ok
    assert world.run("processing_job").ok
    key = newest_key(world.processed, "fact_sales_order/")
    truncate_object(world.processed, key)

    failed = world.run("warehouse_job")
    assert failed.returncode != 0
    assert key in failed.output and world.processed_url in failed.output

    quarantine = world.reveries("quarantine", "--bucket", "processed", key)
    assert quarantine.ok, quarantine.output
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)
    listed = world.reveries("quarantine", "--bucket", "processed", "--list")
    assert key in listed.output
