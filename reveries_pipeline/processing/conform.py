"""Conform one raw batch to the columns and types the transforms expect, before batches are combined.

Raw batches keep the source's schema of the day, so two batches of one table may differ: a new
source column, a widened type (integer -> bigint, varchar -> text), an unconstrained numeric carried
as exact text, a dropped column the star schema doesn't read. Each batch becomes exactly
``RAW_SCHEMAS[table]`` (raw_schemas.py: the star columns, from the catalog) plus the batch key and a
per-row problem note:

- each star column is read by its type family and cast to its raw type without loss; a value that
  can't be (an int past int32, a decimal with more places than the target, unparseable text) is
  left null and named in the row's problem note, so the row is rejected rather than silently altered;
- a star column missing from the batch is an error: that drift matters, and ingestion flags it;
- a star column whose source value had no exact value at capture (`NaN`, `infinity`, a BC date: its
  text is in the batch's UNREPRESENTABLE column) is named in the row's problem note too;
- the change columns (`_op`, `_commit_lsn`, `_change_seq`, `_commit_time`: raw.CHANGE_COLUMNS) are
  carried, null where the batch has none (poll batches; a delete reconciliation's has `_op` only);
- every other column is dropped (it stays in the raw batch, which a reject names).
"""

from __future__ import annotations

import polars as pl

from reveries_pipeline.catalog import SOURCE_TABLES, TypeFamily
from reveries_pipeline.ingestion.logical.columns import COMMIT_TIME
from reveries_pipeline.ingestion.source_schema import UNREPRESENTABLE
from reveries_pipeline.processing.raw_schemas import CHANGE_COLUMNS, CONFORM_PROBLEM, RAW_SCHEMAS, SOURCE_KEY

# Decimals are read through a wide exact type, then narrowed; a narrowing that changes the value
# (more decimal places, or too many digits) is a problem, never a rounding.
_WIDE_DECIMAL = pl.Decimal(38, 12)


class MissingStarColumnsError(ValueError):
    """A raw batch lacks columns the star schema reads."""


def _read_as(column: str, source: pl.DataType, target: pl.DataType, family: TypeFamily) -> pl.Expr:
    col = pl.col(column)
    if family is TypeFamily.DECIMAL:
        return col.cast(_WIDE_DECIMAL, strict=False).cast(target, strict=False)
    if isinstance(target, pl.Datetime) and source == pl.String:
        return col.str.to_datetime(time_unit=target.time_unit, strict=False)
    if isinstance(target, pl.Datetime) and isinstance(source, pl.Datetime) and source.time_zone:
        return col.dt.convert_time_zone("UTC").dt.replace_time_zone(None).cast(target, strict=False)
    return col.cast(target, strict=False)


def _lossy(column: str, target: pl.DataType, family: TypeFamily) -> pl.Expr:
    """True where the source value is present but didn't survive the cast unchanged."""
    original, converted = pl.col(column), pl.col(f"__conformed_{column}")
    lost = original.is_not_null() & converted.is_null()
    if family is TypeFamily.DECIMAL:
        lost = lost | (converted.cast(_WIDE_DECIMAL) != original.cast(_WIDE_DECIMAL, strict=False))
    return lost.fill_null(False)


def _type_name(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision},{dtype.scale})"
    return "timestamp" if isinstance(dtype, pl.Datetime) else str(dtype).lower()


def _unrepresentable_note(column: str) -> pl.Expr:
    """The capture's note for a value of `column` that had no exact value (null where it had one)."""
    text = pl.col(UNREPRESENTABLE).str.json_path_match(f"$.{column}")
    return pl.when(text.is_not_null()).then(pl.format(f"{column}: source value '{{}}' has no exact value", text))


def _problem_note(checked: list[tuple[str, pl.DataType, TypeFamily]], has_unrepresentable: bool) -> pl.Expr:
    notes = [
        pl.when(_lossy(c, target, family)).then(
            pl.format(f"{c}: cannot read '{{}}' as {_type_name(target)} without loss", pl.col(c).cast(pl.String))
        )
        for c, target, family in checked
    ]
    if has_unrepresentable:  # batches captured before the column existed have none
        notes += [_unrepresentable_note(c) for c, _, _ in checked]
    note = pl.concat_str(notes, separator="; ", ignore_nulls=True)
    return pl.when(note != "").then(note)  # null when every value was read without loss


def _change_column(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A change column as raw.CHANGE_COLUMNS types it (null when the batch has none)."""
    dtype = CHANGE_COLUMNS[column]
    if column not in frame.columns:
        return pl.lit(None, dtype=dtype).alias(column)
    source = frame.schema[column]
    if column == COMMIT_TIME and isinstance(source, pl.Datetime) and source.time_zone:
        return pl.col(column).dt.convert_time_zone("UTC").dt.replace_time_zone(None).cast(dtype)
    return pl.col(column).cast(dtype)


def conform_raw_batch(table: str, frame: pl.DataFrame, source_key: str) -> pl.DataFrame:
    """``frame`` (one raw batch of ``table``, stored at ``source_key``) as RAW_SCHEMAS[table] plus
    SOURCE_KEY, CONFORM_PROBLEM and the CHANGE_COLUMNS, rows in the batch's (change) order. Raises
    MissingStarColumnsError if a star column is absent."""
    star = SOURCE_TABLES[table].star_columns
    missing = [c for c in star if c not in frame.columns]
    if missing:
        raise MissingStarColumnsError(
            f"raw batch {source_key!r} of {table} lacks column(s) {missing} that the star schema reads"
        )
    checked = [(column, RAW_SCHEMAS[table][column], family) for column, family in star.items()]
    converted = [
        _read_as(column, frame.schema[column], target, family).alias(f"__conformed_{column}")
        for column, target, family in checked
    ]
    note = _problem_note(checked, UNREPRESENTABLE in frame.columns)
    with_converted = frame.with_columns(converted).with_columns(note.alias(CONFORM_PROBLEM))
    return with_converted.select(
        *[pl.col(f"__conformed_{c}").alias(c) for c in RAW_SCHEMAS[table].names()],
        pl.lit(source_key, dtype=pl.String).alias(SOURCE_KEY),
        pl.col(CONFORM_PROBLEM),
        *[_change_column(frame, column) for column in CHANGE_COLUMNS],
    )
