"""dim_date: one contiguous range of days over every date the facts have ever referenced.

A pass emits only the days that stretch the known range over its facts' dates, so an incremental
history and a rebuild from the lake end with the same dim_date. Days forgotten from the known range
(`without_days`, when a quarantined pass is rewound) are emitted again by the next pass.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

import polars as pl

from reveries_pipeline.catalog import FACT_TABLES, STAR_TABLES
from reveries_pipeline.processing.schemas import as_target, empty_target

# Per fact: its columns that reference dim_date.
_FACT_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    fact: tuple(column for column, dim in STAR_TABLES[fact].references.items() if dim == "dim_date")
    for fact in FACT_TABLES
}


def dim_date_range(start: datetime.date, end: datetime.date) -> pl.DataFrame:
    """dim_date rows for every day from start to end inclusive."""
    dates = pl.date_range(start, end, "1d", eager=True).alias("date_id")
    d = pl.col("date_id")
    return as_target(
        "dim_date",
        pl.DataFrame({"date_id": dates}).select(
            d,
            d.dt.year().alias("year"),
            d.dt.month().alias("month"),
            d.dt.day().alias("day"),
            d.dt.weekday().alias("day_of_week"),
            d.dt.strftime("%A").alias("day_name"),
            d.dt.strftime("%B").alias("month_name"),
            d.dt.quarter().alias("quarter"),
        ),
    )


def dim_date_for_facts(facts: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """dim_date over the range of every date the fact frames reference (empty if they're empty)."""
    bounds = [
        frame.select(
            pl.min_horizontal([pl.col(c).min() for c in cols]).alias("lo"),
            pl.max_horizontal([pl.col(c).max() for c in cols]).alias("hi"),
        )
        for name, cols in _FACT_DATE_COLUMNS.items()
        if (frame := facts.get(name)) is not None and frame.height
    ]
    if not bounds:
        return empty_target("dim_date")
    both = pl.concat(bounds).select(pl.col("lo").min(), pl.col("hi").max())
    lo, hi = both.row(0)
    return dim_date_range(lo, hi)


def extend_dim_date(emitted: pl.DataFrame, known_dates: pl.DataFrame | None) -> pl.DataFrame:
    """The days to emit so that the known range (``known_dates``: every day emitted before) stretches
    over this pass's dates (``emitted``)."""
    if emitted.height == 0:
        return emitted
    lo, hi = emitted["date_id"].min(), emitted["date_id"].max()
    if known_dates is not None and known_dates.height:
        lo, hi = min(lo, known_dates["date_id"].min()), max(hi, known_dates["date_id"].max())
    full = dim_date_range(lo, hi)
    if known_dates is None or known_dates.height == 0:
        return full
    return full.filter(~pl.col("date_id").is_in(known_dates["date_id"].implode()))


def date_ranges(dim_date: pl.DataFrame) -> list[list[str]]:
    """The emitted days as [first, last] ISO ranges of consecutive days (for the pass log)."""
    days = dim_date.get_column("date_id").sort()
    runs = days.to_frame().with_columns(run=(days.diff().dt.total_days().fill_null(1) != 1).cum_sum())
    bounds = runs.group_by("run", maintain_order=True).agg(pl.col("date_id").min(), pl.col("date_id").max().alias("hi"))
    return [[lo.isoformat(), hi.isoformat()] for _, lo, hi in bounds.iter_rows()]


def without_days(known_dates: pl.DataFrame, ranges: Iterable[Sequence[str]] | None) -> pl.DataFrame:
    """The known days minus those in the [first, last] ISO ranges (None: every day)."""
    if ranges is None:
        return known_dates.clear()
    day = pl.col("date_id")
    inside = pl.any_horizontal(
        [day.is_between(datetime.date.fromisoformat(lo), datetime.date.fromisoformat(hi)) for lo, hi in ranges]
        or [pl.lit(False)]
    )
    return known_dates.filter(~inside)
