"""A pass's modelling: the transforms and the settling of the pending raw rows, at once or in parts.

A pass whose pending tables are all small models them at once (transform, then settle_pass) and
keeps its tables in memory. A pass with a table too large for that (key_ranges.py: an initial load,
a rebuild) runs as a sequence of sub-passes, each the same transform and settle over part of the
change, against the state the one before left:

1. every table read whole, except the facts' sources when a dimension's source is split;
2. each key range of each split dimension source;
3. the facts' sources held back from 1;
4. each key range of each split fact source.

Every dimension key is thus emitted before any fact is settled against it, as in one pass. Each
sub-pass's tables go to Arrow spool files in a temporary directory, and each table reaches the IO
manager as one lazy frame over its spools, streamed into its one processed object: memory holds a
key range, never a whole large table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import polars as pl

from reveries_pipeline.catalog import DELETED_ROWS, PROCESSED_TABLE_NAMES, STAR_TABLES
from reveries_pipeline.processing.held import FACT_SOURCE, HoldBack
from reveries_pipeline.processing.key_ranges import KeyRangeReader, open_large_tables
from reveries_pipeline.processing.pending import PendingRaw, RawChanges
from reveries_pipeline.processing.schemas import PROCESSED_SCHEMAS
from reveries_pipeline.processing.settle import settle_pass
from reveries_pipeline.processing.state import ProcessingState
from reveries_pipeline.processing.transforms import ProcessingResult, transform
from reveries_pipeline.processing.validation import DateWindow, combined_rejects

_FACT_SOURCES = frozenset(FACT_SOURCE.values())


@dataclass
class ModelledPass:
    """What a pass emits: every processed table (a frame, or a lazy frame over its spools), the rows
    it rejected, and the fact rows it holds back."""

    tables: dict[str, pl.DataFrame | pl.LazyFrame]  # PROCESSED_TABLE_NAMES order
    heights: dict[str, int]
    rejects: pl.DataFrame
    unknown_currencies: list[str]
    held: HoldBack
    sub_passes: int = 1

    @property
    def dim_date(self) -> pl.DataFrame:
        return self.tables["dim_date"]  # always in memory: a pass's new days are few


def model_pass(
    pending: PendingRaw, state: ProcessingState, window: DateWindow, spool: Path, rows_per_range: int
) -> ModelledPass:
    """Model and settle the pending raw rows into `state` (see the module docstring); a pass split
    into sub-passes spools its tables under `spool`, which must outlive the returned frames."""
    with ExitStack() as stack:
        readers = open_large_tables(pending, rows_per_range, stack)
        if not readers:
            result = transform(pending.changes, state.current, window)
            held = settle_pass(result, state, pending.checkpoint_before)
            tables = {**result.tables, DELETED_ROWS.name: result.deleted_rows}
            heights = {table: frame.height for table, frame in tables.items()}
            return ModelledPass(tables, heights, result.rejects, result.unknown_currencies, held)
        spooled = _SpooledTables(spool)
        for changes in _sub_passes(pending, readers):
            result = transform(changes, state.current, window)
            spooled.add(result, settle_pass(result, state, pending.checkpoint_before))
        return spooled.modelled()


def _sub_passes(pending: PendingRaw, readers: dict[str, KeyRangeReader]) -> Iterator[RawChanges]:
    """Each sub-pass's changes, in the order the module docstring gives."""
    whole = {t: partial(pending.read_table, t) for t in pending.objects if t not in readers}
    dimensions_split = any(t not in _FACT_SOURCES for t in readers)
    first = {t: read for t, read in whole.items() if t not in _FACT_SOURCES or not dimensions_split}
    yield RawChanges(pending, first)
    yield from _ranges(pending, [r for t, r in readers.items() if t not in _FACT_SOURCES])
    held_facts = {t: read for t, read in whole.items() if t not in first}
    if held_facts:
        yield RawChanges(pending, held_facts)
    yield from _ranges(pending, [r for t, r in readers.items() if t in _FACT_SOURCES])


def _ranges(pending: PendingRaw, readers: list[KeyRangeReader]) -> Iterator[RawChanges]:
    for reader in readers:
        for index in range(reader.ranges):
            yield RawChanges(pending, {reader.table: partial(reader.read, index)})


class _SpooledTables:
    """Each sub-pass's tables appended to per-table Arrow spools; dim_date, rejects and the held
    rows kept in memory (they are small, and settled once more by every sub-pass)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.spools: dict[str, list[Path]] = defaultdict(list)
        self.heights: Counter[str] = Counter()
        self.new_days: list[pl.DataFrame] = []
        self.rejects: list[pl.DataFrame] = []
        self.unknown_currencies: set[str] = set()
        self.released_from: dict[str, str | None] = {}
        self.held: HoldBack | None = None
        self.sub_passes = 0

    def add(self, result: ProcessingResult, held: HoldBack) -> None:
        self.sub_passes += 1
        tables = {**result.tables, DELETED_ROWS.name: result.deleted_rows}
        self.new_days.append(tables.pop("dim_date"))
        for table, frame in tables.items():
            if frame.height:
                path = self.directory / f"{table}-{self.sub_passes:05d}.arrow"
                frame.write_ipc(path, compression="lz4")
                self.spools[table].append(path)
                self.heights[table] += frame.height
        self.rejects.append(result.rejects)
        self.unknown_currencies.update(result.unknown_currencies)
        for source, since in held.released_from.items():
            earlier = self.released_from.get(source, since)
            # None: from the first raw batch, which is earlier than any checkpoint
            self.released_from[source] = None if since is None or earlier is None else min(since, earlier)
        self.held = held

    def modelled(self) -> ModelledPass:
        tables: dict[str, pl.DataFrame | pl.LazyFrame] = {}
        for table in PROCESSED_TABLE_NAMES:
            if table == "dim_date":
                tables[table] = pl.concat(self.new_days).sort(STAR_TABLES["dim_date"].natural_id)
            elif self.spools[table]:
                tables[table] = pl.scan_ipc(self.spools[table])
            else:
                tables[table] = pl.DataFrame(schema=PROCESSED_SCHEMAS[table])
        heights = {table: self.heights[table] for table in PROCESSED_TABLE_NAMES}
        heights["dim_date"] = tables["dim_date"].height
        last = self.held or HoldBack(emitted={}, held={})  # (the first sub-pass always runs)
        held = HoldBack(emitted={}, held=last.held, missing=last.missing, released_from=self.released_from)
        rejects = combined_rejects(self.rejects)
        return ModelledPass(tables, heights, rejects, sorted(self.unknown_currencies), held, self.sub_passes)
