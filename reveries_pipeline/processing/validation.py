"""Which raw rows a pass can model, and reject rows for the others.

A row is rejected when a value it can't go on without is null, a text date doesn't parse, a date
falls outside the business date window (a year 0, 2999 or +12345 can't become a dim_date day, and a
0001/9999 pair would stretch dim_date over millions of days), or conform.py couldn't read one of its
values without loss. A reject names the table, the raw batch (`source_key`), the primary key, every
reason, and the row as processing read it (JSON).
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

import polars as pl

from reveries_pipeline.processing.raw_schemas import (
    CHANGE_COLUMNS,
    CONFORM_PROBLEM,
    PRIMARY_KEY,
    RAW_SCHEMAS,
    SOURCE_KEY,
    raw_frame,
)

REJECT_SCHEMA = pl.Schema(
    {
        "table": pl.String,
        "source_key": pl.String,
        "primary_key": pl.Int32,
        "reason": pl.String,
        "row": pl.String,
    }
)

# Star columns a row may lack: they feed a nullable warehouse column, or one with a default
# (a department without a location is "Unknown"). Every other star column is required.
_OPTIONAL: dict[str, tuple[str, ...]] = {
    "address": ("address_line_2", "district"),
    "department": ("location",),
    "transaction": ("sales_order_id", "purchase_order_id"),
}

# Text columns holding 'YYYY-MM-DD' dates.
_DATE_TEXT: dict[str, tuple[str, ...]] = {
    "sales_order": ("agreed_delivery_date", "agreed_payment_date"),
    "purchase_order": ("agreed_delivery_date", "agreed_payment_date"),
    "payment": ("payment_date",),
}


@dataclass(frozen=True)
class DateWindow:
    """The business dates a row may carry (timestamps by their date, text dates once parsed)."""

    earliest: datetime.date = datetime.date(1900, 1, 1)
    latest: datetime.date = datetime.date(2100, 12, 31)

    def __post_init__(self) -> None:
        if self.earliest > self.latest:
            raise ValueError(f"the date window is empty: {self.earliest} is after {self.latest}")

    def outside(self, value: pl.Expr) -> pl.Expr:
        """True where a date or timestamp value falls outside the window (null: false)."""
        day = value.cast(pl.Date)
        return day.is_not_null() & ((day < self.earliest) | (day > self.latest))

    def __str__(self) -> str:
        return f"{self.earliest}..{self.latest}"


def _dated(table: str) -> tuple[str, ...]:
    """The table's timestamp and date star columns."""
    return tuple(c for c, dtype in RAW_SCHEMAS[table].items() if dtype.is_temporal())


def _required(table: str) -> tuple[str, ...]:
    """The columns a row can't go on without, identity and audit columns first (the order a
    reason lists nulls in)."""
    columns = RAW_SCHEMAS[table].names()
    first = [PRIMARY_KEY[table], *(c for c in ("created_at", "last_updated") if c in columns)]
    rest = (c for c in columns if c not in first and c not in _OPTIONAL.get(table, ()))
    return (*first, *rest)


def no_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def reject_rows(table: str, bad: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    """Reject rows (REJECT_SCHEMA) for the raw rows ``bad`` of ``table``."""
    if bad.height == 0:
        return no_rejects()
    return bad.select(
        pl.lit(table, dtype=pl.String).alias("table"),
        pl.col(SOURCE_KEY).alias("source_key"),
        pl.col(PRIMARY_KEY[table]).cast(pl.Int32).alias("primary_key"),
        reason.cast(pl.String).alias("reason"),
        pl.struct(RAW_SCHEMAS[table].names()).struct.json_encode().alias("row"),
    )


def _parsed_date(column: str) -> pl.Expr:
    return pl.col(column).str.to_date("%Y-%m-%d", strict=False)


def _validate(table: str, frame: pl.DataFrame, window: DateWindow) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a conformed raw frame into (valid rows, rejects). Valid rows of fact tables have their
    text date columns replaced by parsed dates; every valid (pk, last_updated) appears once."""
    date_cols = _DATE_TEXT.get(table, ())
    # a value conform.py couldn't read is null by now: its note says why, instead of "null"
    unreadable = pl.col(CONFORM_PROBLEM).is_not_null()
    null_checks = [(c, pl.col(c).is_null() & ~unreadable) for c in _required(table)]
    parse_checks = [(c, pl.col(c).is_not_null() & pl.col(f"__parsed_{c}").is_null()) for c in date_cols]
    window_checks = [(c, window.outside(pl.col(c))) for c in _dated(table)]
    window_checks += [(c, window.outside(pl.col(f"__parsed_{c}"))) for c in date_cols]
    checks = [*null_checks, *parse_checks, *window_checks, (CONFORM_PROBLEM, unreadable)]

    lf = frame.lazy().with_columns([_parsed_date(c).alias(f"__parsed_{c}") for c in date_cols])
    df = lf.with_columns(pl.any_horizontal([cond for _, cond in checks]).alias("__bad")).collect()

    outside = f"is outside the business date window {window}"
    reason = pl.concat_str(
        [pl.when(cond).then(pl.lit(f"{c}: required value is null")) for c, cond in null_checks]
        + [pl.when(cond).then(pl.format(f"{c}: cannot parse '{{}}' as a date", pl.col(c))) for c, cond in parse_checks]
        + [
            pl.when(cond).then(pl.format(f"{c}: '{{}}' {outside}", pl.col(c).cast(pl.String)))
            for c, cond in window_checks
        ]
        + [pl.col(CONFORM_PROBLEM)],
        separator="; ",
        ignore_nulls=True,
    )
    rejects = reject_rows(table, df.filter(pl.col("__bad")), reason)

    pk = PRIMARY_KEY[table]
    good = (
        df.lazy()
        .filter(~pl.col("__bad"))
        # one row per (pk, last_updated): exact replays collapse, the last one read wins
        .filter(pl.struct(pk, "last_updated").is_last_distinct())
        .with_columns([pl.col(f"__parsed_{c}").alias(c) for c in date_cols])
        .drop([f"__parsed_{c}" for c in date_cols] + ["__bad", CONFORM_PROBLEM, *CHANGE_COLUMNS])
        .collect()
    )
    return good, rejects


def validate_table(table: str, frame: pl.DataFrame | None, window: DateWindow) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A raw table's valid rows of this pass (None, a table without changes: none), and its rejects."""
    if frame is None:
        return _nothing_to_validate(table, window)
    return _validate(table, raw_frame(table, frame), window)


@functools.cache
def _nothing_to_validate(table: str, window: DateWindow) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The empty frames of a table without changes, made once (a pass in key ranges asks for them
    for every other table in every range: modelling.py)."""
    return _validate(table, raw_frame(table, None), window)


def combined_rejects(rejects: list[pl.DataFrame]) -> pl.DataFrame:
    found = [r for r in rejects if r.height]
    if not found:
        return no_rejects()
    return pl.concat(found, how="vertical").unique(maintain_order=True)
