"""Lake objects over the read limits, on a local and an S3 bucket.

- a raw batch with more rows than REVERIES_LAKE_MAX_OBJECT_ROWS fails the processing pass, naming
  the batch and the limit; nothing is written to the processed bucket or the warehouse;
- a processed batch larger than REVERIES_LAKE_MAX_OBJECT_BYTES fails the warehouse load the same
  way, and the warehouse is left as it was;
- with the limit raised, the same run loads everything, and the warehouse matches the source.
"""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest
from psycopg import sql

from reveries_pipeline.catalog import STAR_TABLE_NAMES
from reveries_pipeline.lake.object_names import is_batch_key
from reveries_pipeline.resources.object_store import ObjectStore
from reveries_pipeline.resources.read_limits import MAX_OBJECT_BYTES_ENV, MAX_OBJECT_ROWS_ENV
from reveries_pipeline.warehouse.schema import LEDGER_TABLE
from reveries_pipeline_tests.faults.harness import newest_key
from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source
from reveries_pipeline_tests.pipeline_harness import Pipeline

pytestmark = pytest.mark.hostile

NEW_DESIGNS = 2000  # more rows than any other object a pass reads (the largest state frame holds ~800)


def _add_designs(world, count: int) -> None:
    """A bulk load into the source: `count` new designs, one raw batch of that many rows."""
    world.source(
        "INSERT INTO design (design_name, file_location, file_name, last_updated)"
        " SELECT 'bulk ' || n, '/designs', 'bulk-' || n || '.json', now() FROM generate_series(1, %s) AS n",
        (count,),
    )


def _footer(store: ObjectStore, key: str) -> pq.FileMetaData:
    return pq.read_metadata(io.BytesIO(store.get_bytes(key)))


def _bytes_measured(store: ObjectStore, key: str) -> int:
    """The larger of the object's stored size and its decoded size (both are held to the byte limit)."""
    footer = _footer(store, key)
    decoded = sum(footer.row_group(i).total_byte_size for i in range(footer.num_row_groups))
    return max(len(store.get_bytes(key)), decoded)


def _warehouse_state(world) -> list[tuple]:
    """Every warehouse table's row count and the load ledger: what a half-done load would change."""
    counts = [
        (table, *world.warehouse(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))[0])
        for table in STAR_TABLE_NAMES
    ]
    ledger = world.warehouse(sql.SQL("SELECT batch_key FROM {} ORDER BY 1").format(sql.Identifier(LEDGER_TABLE)))
    return counts + ledger


def _process(world) -> list[str]:
    """Capture and process the source's changes in this process; the processed batches written."""
    before = {o.key for o in world.processed.list_objects("")}
    pipeline = Pipeline(world.totesys_dsn, world.warehouse_dsn, world.ingestion, world.processed)
    pipeline.ingest()
    pipeline.process()
    return [o.key for o in world.processed.list_objects("") if o.key not in before and is_batch_key(o.key)]


# Each limit on one kind of bucket (the row limit on S3, the byte limit on a local folder): both kinds'
# readers are unit-tested in lake/test_parquet.py; here the whole pipeline's answer to a limit is.
def test_raw_batch_over_the_row_limit_fails_processing_naming_it_then_loads_once_raised(s3_world):
    world = s3_world
    others = [o.key for o in world.processed.list_objects("_state/processing/") if o.key.endswith(".parquet")]
    limit = NEW_DESIGNS - 1
    assert max(_footer(world.processed, key).num_rows for key in others) < limit  # only the bulk batch is over
    processed_before = world.bucket_snapshot()["processed"]
    warehouse_before = world.warehouse("SELECT count(*) FROM dim_design")
    _add_designs(world, NEW_DESIGNS)

    failed = world.run("etl_job", **{MAX_OBJECT_ROWS_ENV: str(limit)})

    key = newest_key(world.ingestion, "design/")
    assert failed.returncode != 0
    assert key in failed.output and world.ingestion_url in failed.output
    assert f"{NEW_DESIGNS:,} rows" in failed.output and f"{limit:,} rows" in failed.output
    assert f"export {MAX_OBJECT_ROWS_ENV}=" in failed.output  # how to raise it
    assert world.bucket_snapshot()["processed"] == processed_before  # no output, no state moved
    assert world.warehouse("SELECT count(*) FROM dim_design") == warehouse_before

    run = world.run("etl_job", **{MAX_OBJECT_ROWS_ENV: str(NEW_DESIGNS)})
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)


def test_processed_batch_over_the_byte_limit_fails_the_load_naming_it_then_loads_once_raised(world):
    _add_designs(world, NEW_DESIGNS)
    pending = _process(world)
    key = newest_key(world.processed, "dim_design/")
    assert key in pending
    limit = _bytes_measured(world.processed, key) - 1
    assert all(_bytes_measured(world.processed, k) <= limit for k in pending if k != key)  # only it is over
    before = _warehouse_state(world)

    failed = world.run("warehouse_job", **{MAX_OBJECT_BYTES_ENV: str(limit)})

    assert failed.returncode != 0
    assert key in failed.output and world.processed_url in failed.output
    assert f"{limit:,} bytes" in failed.output and f"export {MAX_OBJECT_BYTES_ENV}=" in failed.output
    assert _warehouse_state(world) == before  # the load transaction rolled back whole

    run = world.run("warehouse_job", **{MAX_OBJECT_BYTES_ENV: str(limit + 1)})
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)
