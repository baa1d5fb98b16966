"""A change row's layout, and how a value's text becomes its exact Arrow value.

A change row is the source columns, typed as describe_source_table gives them, then four capture
columns. Values arrive as the text of the type's output function (pgoutput tuples and the snapshot
both), written with the formats `session.pin_output_formats` fixes, so one parser serves both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import pyarrow as pa

from reveries_pipeline.ingestion.source_schema import SourceTable

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
    the capture fields. Keeps the source schema metadata describe_source_table records."""
    fields = [field.with_nullable(True) for field in table.schema]
    metadata = {**table.schema.metadata, CAPTURE_MODE_KEY.encode(): b"logical"}
    return pa.schema([*fields, *CAPTURE_FIELDS], metadata=metadata)


def _boolean(text: str) -> bool:
    if text not in ("t", "f"):
        raise ValueError(f"not a boolean: {text!r}")
    return text == "t"


def _decimal(text: str) -> Decimal:
    value = Decimal(text)
    if not value.is_finite():  # numeric(p,s) admits NaN and infinities; decimal128 doesn't
        raise ValueError(f"{text} has no decimal128 value")
    return value


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
        return datetime.fromisoformat
    if pa.types.is_floating(arrow_type):  # real/double only: numeric never maps to a float
        return float
    if pa.types.is_string(arrow_type):
        return str
    raise TypeError(f"no text parser for Arrow type {arrow_type}")
