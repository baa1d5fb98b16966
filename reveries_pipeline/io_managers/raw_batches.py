"""IO manager for the raw (ingestion) bucket: stores a `raw/<table>` batch, loads a table's raw history.

Storage only. The asset hands over the local parquet file of a capture and names, in the output's
`object_key` metadata, the batch key it goes to; the object is written exactly there and never
replaces one (a taken key fails the output). The asset commits the table's checkpoint itself, once
this has returned (see ingestion/assets.py).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext

from reveries_pipeline.lake.object_names import OBJECT_KEY_METADATA, URI_METADATA, is_batch_key, object_uri
from reveries_pipeline.lake.parquet import read_all_batches
from reveries_pipeline.resources.object_store import ObjectStore


class RawBatchIOManager(ConfigurableIOManager):
    """Writes `raw/<table>` batches to the ingestion bucket; loads every batch of a table."""

    store: ObjectStore

    def handle_output(self, context: OutputContext, obj: Path | None) -> None:
        if obj is None:
            return  # nothing changed: no empty object
        table = context.asset_key.path[-1]
        named = context.output_metadata.get(OBJECT_KEY_METADATA)
        key = None if named is None else str(named.value)
        if key is None or not is_batch_key(key, table):
            raise ValueError(f"raw/{table}: the output must name a batch key of {table} in {OBJECT_KEY_METADATA!r}")
        self.store.put_new_file(key, obj)  # durable on return; ObjectExistsError if the key is taken
        context.add_output_metadata({URI_METADATA: MetadataValue.text(object_uri(self.store, key))})

    def load_input(self, context: InputContext) -> pl.DataFrame:
        """Every raw batch of the table, in write order (the lake is the system of record)."""
        return read_all_batches(self.store, context.asset_key.path[-1])
