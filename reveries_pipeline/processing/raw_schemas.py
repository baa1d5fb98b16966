"""What processing reads from the raw lake: per source table, the columns the star schema reads, typed.

The schemas come from the catalog (`catalog.SOURCE_TABLES`: each star column and its type family),
so the source's columns are written down once. conform.py turns every raw batch into exactly these
columns; any other source column stays in the raw batch, which every reject names (`source_key`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import polars as pl

from reveries_pipeline.catalog import SOURCE_TABLES, TypeFamily
from reveries_pipeline.ingestion.logical.columns import CHANGE_SEQ, COMMIT_LSN, COMMIT_TIME, OP

# The type processing holds each family in: what totesys declares (integer, numeric(10, 2),
# timestamp(3), ...). conform.py reads a wider source type into it, or rejects the row.
FAMILY_DTYPES: Mapping[TypeFamily, pl.DataType] = MappingProxyType(
    {
        TypeFamily.INTEGER: pl.Int32(),
        TypeFamily.DECIMAL: pl.Decimal(10, 2),
        TypeFamily.TEXT: pl.String(),
        TypeFamily.TIMESTAMP: pl.Datetime("ms"),
        TypeFamily.BOOLEAN: pl.Boolean(),
        TypeFamily.DATE: pl.Date(),
    }
)

RAW_SCHEMAS: Mapping[str, pl.Schema] = MappingProxyType(
    {
        name: pl.Schema({column: FAMILY_DTYPES[family] for column, family in spec.star_columns.items()})
        for name, spec in SOURCE_TABLES.items()
    }
)

PRIMARY_KEY: Mapping[str, str] = MappingProxyType({name: spec.primary_key for name, spec in SOURCE_TABLES.items()})

# Two columns ride along with the raw columns of a pass: the batch each row came from, and why
# conform.py couldn't read one of its values without loss (a non-null note rejects the row).
SOURCE_KEY = "_source_key"
CONFORM_PROBLEM = "_conform_problem"

# The change columns a raw batch may carry (ingestion/logical/columns.py), typed as processing holds
# them; null where a batch has none (poll batches, but for `_op` in a delete reconciliation's batch).
# `_commit_time` is held as naive UTC, like every timestamp the warehouse stores.
CHANGE_COLUMNS: Mapping[str, pl.DataType] = MappingProxyType(
    {OP: pl.String(), COMMIT_LSN: pl.Int64(), CHANGE_SEQ: pl.Int64(), COMMIT_TIME: pl.Datetime("us")}
)

# Every column that rides along with a raw table's star columns during a pass.
COMPANION_COLUMNS: Mapping[str, pl.DataType] = MappingProxyType(
    {SOURCE_KEY: pl.String(), CONFORM_PROBLEM: pl.String(), **CHANGE_COLUMNS}
)


def raw_frame(table: str, frame: pl.DataFrame | None, with_source_key: bool = True) -> pl.DataFrame:
    """``frame`` as exactly RAW_SCHEMAS[table] (in that order, those dtypes) plus, optionally, the
    COMPANION_COLUMNS (null where the frame has none). None or a frame without columns: no rows."""
    if frame is None or frame.width == 0:
        frame = pl.DataFrame(schema=RAW_SCHEMAS[table])
    missing = [c for c in RAW_SCHEMAS[table].names() if c not in frame.columns]
    if missing:
        raise ValueError(f"raw frame for {table!r} lacks columns {missing}")
    exprs = [pl.col(c).cast(dtype) for c, dtype in RAW_SCHEMAS[table].items()]
    if with_source_key:
        for extra, dtype in COMPANION_COLUMNS.items():
            present = extra in frame.columns
            exprs.append(pl.col(extra).cast(dtype) if present else pl.lit(None, dtype=dtype).alias(extra))
    return frame.select(exprs)
