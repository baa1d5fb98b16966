"""What an ingestion run left in the raw bucket, and what it reported for each table."""

from __future__ import annotations

import io

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from reveries_pipeline.asset_keys import raw_key
from reveries_pipeline.lake.object_names import is_batch_key


def batches(store, table) -> list[str]:
    return [o.key for o in store.list_objects(f"{table}/") if is_batch_key(o.key, table)]


def read_batch(store, key) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(store.get_bytes(key)))


def batch_schema(store, key) -> pa.Schema:
    return pq.read_schema(io.BytesIO(store.get_bytes(key)))


def all_rows(store, table) -> pl.DataFrame:
    # diagonal: poll and logical batches of one table differ in their capture columns
    return pl.concat([read_batch(store, k) for k in batches(store, table)], how="diagonal_relaxed")


def materialized_metadata(result, table) -> dict:
    """{name: value} of the metadata `raw/<table>` was materialized with in a materialize() result."""
    [mat] = [m for m in result.asset_materializations_for_node("raw_totesys_tables") if m.asset_key == raw_key(table)]
    return {k: v.value for k, v in mat.metadata.items()}
