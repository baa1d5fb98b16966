"""The raw IO manager only stores and loads: a batch goes exactly where the asset named, never over
another one, and loading a raw asset reads every batch of its table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import psycopg
import pytest
from dagster import MetadataValue, build_input_context, build_output_context

from reveries_pipeline.asset_keys import raw_key
from reveries_pipeline.io_managers.raw_batches import RawBatchIOManager
from reveries_pipeline.lake.object_names import OBJECT_KEY_METADATA, batch_key
from reveries_pipeline.resources.object_errors import ObjectExistsError
from reveries_pipeline_tests.ingestion.raw_lake import batches
from reveries_pipeline_tests.ingestion.source_rows import T0, add_sales_order

pytestmark = pytest.mark.parametrize("bucket_kind", ["local"])


def output_to(key: str | None):
    metadata = {} if key is None else {OBJECT_KEY_METADATA: MetadataValue.text(key)}
    return build_output_context(asset_key=raw_key("address"), output_metadata=metadata)


def test_a_batch_is_stored_exactly_at_the_named_key_and_never_replaces_one(ingestion_store, tmp_path):
    spool = tmp_path / "address.parquet"
    pl.DataFrame({"address_id": [1]}).write_parquet(spool)
    manager = RawBatchIOManager(store=ingestion_store)
    key = batch_key("address", datetime(2024, 11, 3, tzinfo=UTC))

    manager.handle_output(output_to(key), spool)
    assert batches(ingestion_store, "address") == [key] and ingestion_store.get_bytes(key) == spool.read_bytes()
    with pytest.raises(ObjectExistsError):
        manager.handle_output(output_to(key), spool)
    with pytest.raises(ValueError, match="must name a batch key of address"):
        manager.handle_output(output_to(batch_key("staff", datetime(2024, 11, 4, tzinfo=UTC))), spool)
    with pytest.raises(ValueError, match="must name a batch key of address"):
        manager.handle_output(output_to(None), spool)
    manager.handle_output(output_to(None), None)  # nothing changed: nothing to store
    assert batches(ingestion_store, "address") == [key]


def test_loading_a_raw_asset_reads_every_batch_of_its_table_in_write_order(run_ingestion, ingestion_store, source):
    run_ingestion()
    with psycopg.connect(source) as conn:
        new_id = add_sales_order(conn, T0 + timedelta(hours=1))
    run_ingestion()
    assert len(batches(ingestion_store, "sales_order")) == 2
    context = build_input_context(asset_key=raw_key("sales_order"))
    loaded = RawBatchIOManager(store=ingestion_store).load_input(context)
    assert loaded["sales_order_id"].to_list() == [1, new_id]
