"""Rebuild checks before it destroys: every raw batch is read before any derived object is deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import materialize

from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.processing.assets import star_schema_tables
from reveries_pipeline.processing.derived_state import reset_derived_state
from reveries_pipeline.resources.object_errors import UnreadableObjectError
from reveries_pipeline.warehouse.assets import warehouse_tables
from reveries_pipeline_tests.support import lake_contents

REBUILD = {"ops": {"star_schema_tables": {"config": {"rebuild": True}}}}


def snapshot(store) -> dict[str, bytes]:
    return lake_contents(store)


def fact_count(pipeline) -> int:
    return pipeline.warehouse("SELECT count(*) FROM fact_sales_order")[0][0]


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_rebuild_with_a_corrupt_raw_batch_fails_naming_it_and_deletes_nothing(pipeline):
    pipeline.etl()
    pipeline.source("UPDATE sales_order SET units_sold = 9, last_updated = now() WHERE sales_order_id = 1")
    pipeline.etl()
    loaded = fact_count(pipeline)
    processed_before = snapshot(pipeline.processed)
    assert any(k.startswith("_state/processing/") for k in processed_before)
    # the newest raw batch of the last table a rebuild reads is the one that's corrupt
    corrupt = [o.key for o in new_batches(pipeline.ingestion, "payment", None)][-1]
    (Path(pipeline.ingestion.url) / corrupt).write_bytes(b"PAR1 this is not parquet at all")

    with pytest.raises(UnreadableObjectError) as failure:
        materialize(
            [star_schema_tables, warehouse_tables],
            resources=pipeline.resources,
            instance=pipeline.instance,
            run_config=REBUILD,
        )
    assert failure.value.key == corrupt and failure.value.bucket_url == pipeline.ingestion.url
    assert corrupt in str(failure.value)
    assert snapshot(pipeline.processed) == processed_before  # processed objects and state untouched
    assert fact_count(pipeline) == loaded


def test_reset_derived_state_empties_only_what_processing_derived(pipeline):
    pipeline.etl()
    raw_before = snapshot(pipeline.ingestion)
    deleted = reset_derived_state(pipeline.processed)
    assert deleted["fact_sales_order"] == 1 and deleted["_state/processing"] >= 1
    assert snapshot(pipeline.processed) == {}
    assert snapshot(pipeline.ingestion) == raw_before
    assert fact_count(pipeline) == pipeline.source("SELECT count(*) FROM sales_order")[0][0]  # not processing's
