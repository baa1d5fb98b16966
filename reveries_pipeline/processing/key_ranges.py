"""Pending raw tables too large to model at once, read one primary-key range at a time.

A table whose pending batches hold more rows than a pass models at once (`rows_per_range`) is split
into ascending ranges of its primary key, about that many rows each, and modelled a range at a time
(modelling.py). Every version of a key falls in one range, so what a pass does per key (replays
dropped, the last copy of a version kept, the latest row per dimension key) gives the same rows per
range as for the whole table, and ranges written one after another keep a dimension sorted by key.

The ranges come from the footers' per-row-group key statistics, and a range reads only the row
groups whose keys can fall in it: batches written in key order (an initial load, a rebuild) are
read about once in all. A row group without statistics is read for every range, and a table whose
statistics don't give its keys' extent is read whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass

import polars as pl

from reveries_pipeline.lake.parquet import IntegerRange, ParquetBatch, opened_parquet_object
from reveries_pipeline.processing.pending import PendingRaw, conformed_row_groups
from reveries_pipeline.processing.raw_schemas import PRIMARY_KEY, RAW_SCHEMAS, raw_frame
from reveries_pipeline.processing.transforms import STATE_TABLES
from reveries_pipeline.resources import ObjectStore

# A raw batch takes at least this many bytes per row (zstd parquet of totesys rows: 19-40 B): a
# table whose pending objects are smaller than rows_per_range rows would take is never opened here.
MIN_BYTES_PER_ROW = 4


@dataclass
class KeyRangeReader:
    """One large table's pending batches, open, and the edges of its key ranges: range i holds
    keys in [edges[i], edges[i + 1]); the first also holds null keys, the last every key above."""

    ingestion_lake: ObjectStore
    table: str
    batches: list[tuple[str, ParquetBatch]]  # (object key, opened batch), in batch order
    key_statistics: list[list[IntegerRange | None]]  # per batch, per row group (ParquetBatch.integer_ranges)
    edges: list[int]

    @property
    def ranges(self) -> int:
        return max(len(self.edges) - 1, 1)

    def read(self, index: int) -> pl.DataFrame:
        """Range `index`'s rows, conformed, in batch and row order."""
        pk = PRIMARY_KEY[self.table]
        low = None if index == 0 else self.edges[index]
        high = None if index >= self.ranges - 1 else self.edges[index + 1]
        frames = []
        for (key, batch), statistics in zip(self.batches, self.key_statistics, strict=True):
            groups = [i for i, found in enumerate(statistics) if _may_hold(found, low, high)]
            for rows in conformed_row_groups(self.ingestion_lake, self.table, key, batch, groups):
                frames.append(rows.filter(_in_range(pk, low, high)))
        return pl.concat(frames, how="vertical") if frames else raw_frame(self.table, None)


def _may_hold(found: IntegerRange | None, low: int | None, high: int | None) -> bool:
    """Whether a row group with these key statistics can have a row in [low, high) (None: open)."""
    if found is None:
        return True
    if low is None and found.nulls:
        return True
    return (low is None or found.high >= low) and (high is None or found.low < high)


def _in_range(pk: str, low: int | None, high: int | None) -> pl.Expr:
    key = pl.col(pk)
    inside = pl.lit(True)
    if low is not None:
        inside = inside & (key >= low)
    if high is not None:
        inside = inside & (key < high)
    return inside | key.is_null() if low is None else inside.fill_null(False)


def range_edges(groups: Iterable[tuple[IntegerRange | None, int]], table: str, rows_per_range: int) -> list[int]:
    """Edges of ascending key ranges of about `rows_per_range` rows each, from each row group's key
    statistics and rows (a row group of more rows counts as that many even slices of its keys; one
    without statistics is read for every range). [] when no row group's statistics give its keys, or
    a key is beyond the key's type (the table is then read whole: such a key is null once conformed,
    and rejected)."""
    dtype = RAW_SCHEMAS[table][PRIMARY_KEY[table]]
    smallest, largest = pl.select(dtype.min().alias("min"), dtype.max().alias("max")).row(0)
    slices: list[tuple[int, float]] = []  # (lowest key, rows) of each slice of a row group's keys
    highest = None
    for found, rows in groups:
        if found is None:
            continue  # read for every range
        if found.low < smallest or found.high > largest:
            return []
        if rows > found.nulls:
            pieces = max(1, min(-(-rows // rows_per_range), found.high - found.low + 1))
            span = found.high + 1 - found.low
            slices += [(found.low + span * piece // pieces, rows / pieces) for piece in range(pieces)]
            highest = found.high if highest is None else max(highest, found.high)
    if highest is None:
        return []
    slices.sort()
    edges, taken = [slices[0][0]], 0.0
    for low, rows in slices:
        if taken >= rows_per_range and low > edges[-1]:
            edges.append(low)
            taken = 0.0
        taken += rows
    return [*edges, highest + 1]


def open_large_tables(pending: PendingRaw, rows_per_range: int, stack: ExitStack) -> dict[str, KeyRangeReader]:
    """A reader for each pending table large enough to split (never a table the dimensions join
    through: those are modelled whole). Its batches stay open until `stack` closes."""
    readers: dict[str, KeyRangeReader] = {}
    for table, objects in pending.objects.items():
        if table in STATE_TABLES or sum(o.size for o in objects) < rows_per_range * MIN_BYTES_PER_ROW:
            continue
        lake = pending.ingestion_lake
        batches = [(o.key, stack.enter_context(opened_parquet_object(lake, o.key, o.size))) for o in objects]
        if sum(batch.height for _, batch in batches) <= rows_per_range:
            continue
        statistics = [batch.integer_ranges(PRIMARY_KEY[table]) for _, batch in batches]
        groups = (
            pair
            for (_, b), found in zip(batches, statistics, strict=True)
            for pair in zip(found, b.row_group_rows(), strict=True)
        )
        edges = range_edges(groups, table, rows_per_range)
        if len(edges) > 2:
            readers[table] = KeyRangeReader(lake, table, batches, statistics, edges)
    return readers
