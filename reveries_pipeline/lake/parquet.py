"""Parquet objects in a bucket: write one as a new immutable batch, read one (naming the bucket and
key when it can't be read), read every batch of a table, and say where an object is (its URI)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import polars as pl

from reveries_pipeline.lake.batch_keys import is_batch_key, put_new_batch
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.resources.object_store import ObjectStore, UnreadableObjectError


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


def object_uri(store: ObjectStore, key: str) -> str:
    """Where an object is, for people and tools: `s3://bucket/prefix/key`, or a `file://` URI."""
    if store.is_s3:
        return f"{store.url.rstrip('/')}/{key}"
    return (Path(store.url.removeprefix("file://")).expanduser().resolve() / key).as_uri()
