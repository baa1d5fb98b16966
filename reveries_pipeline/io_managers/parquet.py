"""Parquet IO manager for the processed bucket: each output becomes one immutable object at
`<table>/<YYYY>/<MM>/<DD>/<table>-<timestamp>.parquet`, so the bucket mirrors the warehouse tables.

Storage only: it writes what it is given and reads back what was written. Written for polars 2
directly (dagster-polars 0.27 passes `rechunk` to scan_parquet, which polars 2 removed). An empty
frame writes nothing: no empty objects. An asset that must know its object's key (processing records
every key a pass writes) names it in the output's `object_key` metadata, and the object is written
exactly there. The table is the asset key's last part (`processed/<table>` -> `<table>/...`).
"""

from __future__ import annotations

import time

import polars as pl
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext

from reveries_pipeline.lake.object_names import OBJECT_KEY_METADATA, URI_METADATA, object_uri
from reveries_pipeline.lake.parquet import read_all_batches, write_new_parquet
from reveries_pipeline.resources.object_store import ObjectStore


class ProcessedParquetIOManager(ConfigurableIOManager):
    """Stores star-schema tables (polars DataFrames, or LazyFrames streamed to the file) as parquet
    batches in the processed bucket."""

    store: ObjectStore

    def handle_output(self, context: OutputContext, obj: pl.DataFrame | pl.LazyFrame) -> None:
        table = context.asset_key.path[-1]
        started = time.perf_counter()
        # a lazy frame (a table spooled to disk) is counted from its spool, then streamed to the object
        rows = obj.height if isinstance(obj, pl.DataFrame) else obj.select(pl.len()).collect().item()
        if rows == 0:
            context.add_output_metadata(
                {"rows": MetadataValue.int(0), OBJECT_KEY_METADATA: MetadataValue.text("(none: no changes)")}
            )
            return  # said by the metadata, and by the stage's summary line: no log event per table
        named = context.output_metadata.get(OBJECT_KEY_METADATA)
        key, size = write_new_parquet(self.store, table, obj, None if named is None else str(named.value))
        seconds = time.perf_counter() - started
        metadata = {
            "rows": MetadataValue.int(rows),
            "bytes": MetadataValue.int(size),
            "write_seconds": MetadataValue.float(round(seconds, 3)),
            URI_METADATA: MetadataValue.text(object_uri(self.store, key)),
        }
        if named is None:
            metadata[OBJECT_KEY_METADATA] = MetadataValue.text(key)
        context.add_output_metadata(metadata)
        context.log.info(f"{table}: wrote {rows} rows ({size} bytes) to {key} in {seconds:.2f}s")

    def load_input(self, context: InputContext) -> pl.DataFrame:
        """Every processed batch of the table, in write order: every version of every row it has
        emitted (what an asset downstream of `processed/<table>`, or `Definitions.load_asset_value`, gets)."""
        return read_all_batches(self.store, context.asset_key.path[-1])
