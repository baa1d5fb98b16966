"""ProcessedParquetIOManager is storage only: each non-empty output becomes one new parquet object
(its URI in the materialization), an empty one writes nothing, and an input reads every object back."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import polars as pl
from dagster import AssetIn, DagsterInstance, asset, materialize

from reveries_pipeline.asset_keys import processed_key
from reveries_pipeline.io_managers.parquet import ProcessedParquetIOManager
from reveries_pipeline.lake.listing import new_batches

SCHEMA = pl.Schema({"currency_id": pl.Int32, "currency_code": pl.String})


def test_outputs_are_stored_as_new_objects_and_an_input_reads_them_all_in_write_order(processed_store):
    frames = iter(
        [
            pl.DataFrame({"currency_id": [1, 2], "currency_code": ["GBP", "USD"]}, schema=SCHEMA),
            pl.DataFrame(schema=SCHEMA),  # a pass with no changes
            pl.DataFrame({"currency_id": [2], "currency_code": ["EUR"]}, schema=SCHEMA),
        ]
    )
    seen: list[pl.DataFrame] = []

    @asset(key=processed_key("dim_currency"), io_manager_key="processed_io_manager")
    def dim_currency() -> pl.DataFrame:
        return next(frames)

    @asset(ins={"currencies": AssetIn(processed_key("dim_currency"))})
    def reader(currencies: pl.DataFrame) -> None:
        seen.append(currencies)

    resources = {"processed_io_manager": ProcessedParquetIOManager(store=processed_store)}
    instance = DagsterInstance.ephemeral()
    metadata = []
    for _ in range(3):
        result = materialize([dim_currency], resources=resources, instance=instance)
        [mat] = result.asset_materializations_for_node(dim_currency.op.name)
        metadata.append({k: v.value for k, v in mat.metadata.items()})

    keys = [o.key for o in new_batches(processed_store, "dim_currency", None)]
    assert len(keys) == 2 and all(k.startswith("dim_currency/") for k in keys)  # the table's prefix, not processed/
    first, empty, last = metadata
    assert (first["rows"], first["object_key"], last["object_key"]) == (2, keys[0], keys[1])
    assert empty["rows"] == 0 and "dagster/uri" not in empty
    for meta, key in ((first, keys[0]), (last, keys[1])):
        uri = meta["dagster/uri"]
        if processed_store.is_s3:
            assert uri == f"{processed_store.url}/{key}"
        else:
            assert uri.startswith("file://") and Path(urlparse(uri).path) == (Path(processed_store.url) / key).resolve()
            assert Path(urlparse(uri).path).is_file()

    materialize([dim_currency, reader], selection=[reader], resources=resources, instance=instance)
    [loaded] = seen
    assert loaded.rows() == [(1, "GBP"), (2, "USD"), (2, "EUR")] and loaded.schema == SCHEMA
