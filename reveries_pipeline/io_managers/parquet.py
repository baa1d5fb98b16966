"""Parquet IO manager for the processed bucket: each output becomes one immutable object at
`<table>/<YYYY>/<MM>/<DD>/<table>-<timestamp>.parquet`, so the bucket mirrors the warehouse tables.

Written for polars 2 directly (dagster-polars 0.27 passes `rechunk` to scan_parquet, which polars 2
removed). An empty frame writes nothing: no empty objects. An asset that must know its object's key
(processing records every key a pass writes) names it in the output's `object_key` metadata, and
the object is written exactly there.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

import polars as pl
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext

from reveries_pipeline.resources.batch_keys import is_batch_key, put_new_batch
from reveries_pipeline.resources.new_objects import new_batches
from reveries_pipeline.resources.object_store import ObjectStore, UnreadableObjectError

# Output metadata naming the key an output must be written to (optional).
OBJECT_KEY_METADATA = "object_key"


def write_new_parquet(store: ObjectStore, table: str, frame: pl.DataFrame, key: str | None = None) -> tuple[str, int]:
    """Store `frame` as a new immutable object under the table's prefix (at `key` if given, which
    must be a new batch key of the table); returns (key, bytes)."""
    if key is not None and not is_batch_key(key, table):
        raise ValueError(f"{key!r} is not a batch key of {table}")
    with tempfile.TemporaryDirectory(prefix="reveries-pq-") as tmp:
        path = Path(tmp) / f"{table}.parquet"
        frame.write_parquet(path, compression="zstd", statistics=True)
        if key is None:
            key = put_new_batch(store, table, path)
        else:
            store.put_new_file(key, path)  # never replaces: ObjectExistsError if the key is taken
        return key, path.stat().st_size


def read_parquet_object(store: ObjectStore, key: str) -> pl.DataFrame:
    """Read one parquet object; any failure to parse it names the bucket and the key."""
    data = store.get_bytes(key)
    if data is None:
        raise FileNotFoundError(f"object {key!r} is missing from {store.url}")
    try:
        return pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises ComputeError, OSError or pyarrow errors for a bad file
        raise UnreadableObjectError(store.url, key, f"{type(exc).__name__}: {exc}") from exc


def read_all_batches(store: ObjectStore, table: str) -> pl.DataFrame:
    """Every batch object of a table, in write order, as one frame (empty if there are none). Raw
    batches of one table may differ in columns or widths (schema drift): columns are unioned."""
    frames = [read_parquet_object(store, o.key) for o in new_batches(store, table, None)]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


class ProcessedParquetIOManager(ConfigurableIOManager):
    """Stores star-schema tables (polars DataFrames) as parquet batches in the processed bucket."""

    store: ObjectStore

    def handle_output(self, context: OutputContext, obj: pl.DataFrame) -> None:
        table = context.asset_key.path[-1]
        started = time.perf_counter()
        if obj.height == 0:
            context.add_output_metadata(
                {"rows": MetadataValue.int(0), "object_key": MetadataValue.text("(none: no changes)")}
            )
            context.log.info(f"{table}: no changed rows, nothing written")
            return
        named = context.output_metadata.get(OBJECT_KEY_METADATA)
        key, size = write_new_parquet(self.store, table, obj, None if named is None else str(named.value))
        seconds = time.perf_counter() - started
        metadata = {
            "rows": MetadataValue.int(obj.height),
            "bytes": MetadataValue.int(size),
            "write_seconds": MetadataValue.float(round(seconds, 3)),
        }
        if named is None:
            metadata[OBJECT_KEY_METADATA] = MetadataValue.text(key)
        context.add_output_metadata(metadata)
        context.log.info(f"{table}: wrote {obj.height} rows ({size} bytes) to {key} in {seconds:.2f}s")

    def load_input(self, context: InputContext) -> pl.DataFrame:
        """Every processed batch of the table, in write order."""
        return read_all_batches(self.store, context.asset_key.path[-1])
