"""A change row's layout, and how a value's text becomes its exact Arrow value.

A change row is the source columns, typed as describe_source_table gives them, then four capture
columns. Values arrive as the text of the type's output function (pgoutput tuples and the snapshot
both), written with the formats `session.pin_output_formats` fixes, so one parser serves both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import pyarrow as pa

from reveries_pipeline.ingestion.source_schema import UNREPRESENTABLE, SourceTable

OP = "_op"
COMMIT_LSN = "_commit_lsn"  # int64: sorts, unlike 'X/Y' text (lsn.lsn_text prints it)
COMMIT_TIME = "_commit_time"
# the change's position in its transaction: (_commit_lsn, _change_seq) names a change, the same on a replay
CHANGE_SEQ = "_change_seq"
CAPTURE_MODE_KEY = "reveries.capture_mode"

CAPTURE_FIELDS: tuple[pa.Field, ...] = (
    pa.field(OP, pa.string(), nullable=False),
    pa.field(COMMIT_LSN, pa.int64(), nullable=False),
    pa.field(COMMIT_TIME, pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field(CHANGE_SEQ, pa.int64(), nullable=False),
)


class Op(StrEnum):
    SNAPSHOT = "snapshot"  # the row as the initial snapshot read it (an upsert, like an insert)
    INSERT = "insert"
    UPDATE = "update"  # the whole new row
    DELETE = "delete"  # the old row (the key at least); nothing of it exists after
    TRUNCATE = "truncate"  # every row of the table is gone; all source columns null


def change_schema(table: SourceTable) -> pa.Schema:
    """The spool schema of `table`: its source fields, nullable (a truncate carries no values), then
    UNREPRESENTABLE as in a polled batch (JSON {column: text} of values with no exact Arrow value), then
    the capture fields. Keeps the source schema metadata describe_source_table records."""
    fields = [field.with_nullable(True) for field in table.schema]
    metadata = {**table.schema.metadata, CAPTURE_MODE_KEY.encode(): b"logical"}
    return pa.schema([*fields, pa.field(UNREPRESENTABLE, pa.string()), *CAPTURE_FIELDS], metadata=metadata)


def _boolean(text: str) -> bool:
    if text not in ("t", "f"):
        raise ValueError(f"not a boolean: {text!r}")
    return text == "t"


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():  # numeric(p,s) admits NaN and infinities; decimal128 doesn't
        raise ValueError(f"{text} has no decimal128 value")
    return value


def _timestamp(text: str) -> datetime:
    # 'infinity', BC ('0044-03-15 12:00:00 BC') and years past 9999 have no Python value
    return datetime.fromisoformat(text)


def text_parser(arrow_type: pa.DataType) -> Callable[[str], object]:
    """The exact parser of an output function's text into a value of `arrow_type`."""
    if pa.types.is_integer(arrow_type):
        return int
    if pa.types.is_boolean(arrow_type):
        return _boolean
    if pa.types.is_decimal(arrow_type):
        return _decimal
    if pa.types.is_date32(arrow_type):
        return date.fromisoformat
    if pa.types.is_timestamp(arrow_type):  # DateStyle ISO; 'infinity' is refused, not guessed
        return _timestamp
    if pa.types.is_floating(arrow_type):  # real/double only: numeric never maps to a float
        return float
    if pa.types.is_string(arrow_type):
        return str
    raise TypeError(f"no text parser for Arrow type {arrow_type}")


def parse_values(
    names: Iterable[str], parsers: Iterable[Callable[[str], object] | None], texts: Iterable[str | None]
) -> tuple[dict[str, object], dict[str, str]]:
    """({column: value}, {column: text of a value with no exact Arrow value}) of one row's texts. One
    bad value never stops the table: it is left null and its text kept, for processing to reject the
    row with (NaN, infinity, a BC or year-10000 timestamp). A null text or parser is skipped."""
    values: dict[str, object] = {}
    unrepresentable: dict[str, str] = {}
    for name, parse, text in zip(names, parsers, texts, strict=True):
        if text is None or parse is None:
            continue
        try:
            values[name] = parse(text)
        except (ValueError, ArithmeticError):
            unrepresentable[name] = text
    return values, unrepresentable
