"""Incremental change capture from one totesys table into a local parquet spool file.

Rows are read with COPY (source_reader.py) and appended to the spool block by block, so memory stays
bounded even for the first, full snapshot. Capture rules (see checkpoints.py):

- a needed column dropped or retyped stops the table before anything is read (see drift.py);
- read `last_updated >= high_water_mark - lookback` (a row that commits late, or in the same
  millisecond as the previous mark, is still seen);
- drop (pk, last_updated) pairs the checkpoint says were already emitted (no duplicates);
- the new mark is the highest `last_updated` seen, but never past the source's own clock (read in the
  same transaction) plus a small skew allowance: one row dated 2999 must not hide every later change.
  Such a future-dated row is still captured, once (its pair stays in the window until the clock
  passes it), and the capture names it (`future_dated`, reported by an asset check);
- the new window keeps the pairs inside it. A row whose `last_updated` has no Arrow value
  (`infinity`, BC) keeps a null there (source_schema.py); its pair is kept with a null time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import psycopg

from reveries_pipeline.ingestion.checkpoints import Checkpoint, window_start
from reveries_pipeline.ingestion.drift import check_star_columns, describe_changes
from reveries_pipeline.ingestion.logical.columns import OP
from reveries_pipeline.ingestion.reconcile import Reconciler, Vanished, delete_batch_schema
from reveries_pipeline.ingestion.source_reader import rows_updated_since
from reveries_pipeline.ingestion.source_schema import SourceTable, describe_source_table
from reveries_pipeline.ingestion.spool import SpoolFile

DEFAULT_LOOKBACK = timedelta(minutes=15)
DEFAULT_CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class CaptureResult:
    """One table's capture, in either mode (poll here, logical in logical_capture.py): the spool file
    the asset hands to the raw IO manager, and the checkpoint to commit once it is stored."""

    table: str
    source: SourceTable  # the table's columns and types as this capture read them
    spool_path: Path
    rows: int
    bytes: int
    checkpoint_before: Checkpoint
    # the new mark, window and schema; the batch is added once stored (Checkpoint.with_stored_batch)
    checkpoint_after: Checkpoint
    rows_read: int  # before dropping already-captured pairs
    seconds: float
    # range of last_updated of the rows written (None when nothing was)
    low: datetime | None = None
    high: datetime | None = None
    schema_changes: list[str] = field(default_factory=list)  # since the last capture
    # (pk, last_updated) captured with a last_updated past the source clock (+ skew), still ahead of it
    future_dated: list[tuple[int, datetime]] = field(default_factory=list)
    source_clock: datetime | None = None  # the source's localtimestamp, read in the capture's transaction
    repairs: list[str] = field(default_factory=list)  # what was put right in the checkpoint, for the log
    snapshot: bool = False  # logical mode: the table was (re-)snapshotted, so its checkpoint is saved
    # poll mode with reconcile_deletes: the rows gone from the source, appended to the batch as deletes;
    # its state is saved once the batch is stored (reconcile.py)
    vanished: Vanished | None = None


@dataclass
class _Emitted:
    """The (pk, last_updated) pairs emitted before (from the checkpoint) and by this capture, and the
    pairs read this time that lie past `ceiling` (the source clock plus skew) or have no time."""

    pk: str
    before: pl.DataFrame
    ceiling: datetime
    new: list[pl.DataFrame] = field(default_factory=list)
    ahead: list[pl.DataFrame] = field(default_factory=list)

    def note_read(self, frame: pl.DataFrame) -> None:
        """Every capture reads every row at or past its lower bound, so these are exactly the rows that
        are still ahead of the clock (or timeless) in the source now."""
        self.ahead.append(self._pairs(frame).filter(_ahead(self.ceiling)))

    def drop_already_emitted(self, frame: pl.DataFrame) -> pl.DataFrame:
        if not self.before.height:
            return frame
        before = self.before.cast({self.pk: frame.schema[self.pk]})
        # a null time (an unrepresentable last_updated) matches its own pair: captured once
        return frame.join(before, on=[self.pk, "last_updated"], how="anti", maintain_order="left", nulls_equal=True)

    def add(self, frame: pl.DataFrame, window_start: datetime) -> None:
        # only pairs that can still fall inside the next window: a full snapshot keeps few
        self.new.append(self._pairs(frame).filter(pl.col("last_updated") >= window_start))

    def window(self, window_start: datetime) -> list[tuple[int, datetime | None]]:
        """The pairs inside [window_start, ceiling], and those read ahead of it this time: a pair ahead
        that the source no longer has (its row was fixed) is forgotten."""
        inside = pl.concat([self.before, *self.new]).filter(
            pl.col("last_updated").is_between(window_start, self.ceiling)
        )
        return list(pl.concat([inside, *self.ahead]).unique(maintain_order=True).iter_rows())

    def future_dated(self) -> list[tuple[int, datetime]]:
        return [(pk, at) for pk, at in pl.concat([self.before.clear(), *self.ahead]).unique().iter_rows() if at]

    def _pairs(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            pl.col(self.pk).cast(pl.Int64), pl.col("last_updated").cast(self.before.schema["last_updated"])
        )


def _ahead(ceiling: datetime) -> pl.Expr:
    # a null time (infinity, BC) is as good as ahead: an infinite one is read by every capture
    return (pl.col("last_updated") > ceiling) | pl.col("last_updated").is_null()


@dataclass(frozen=True)
class CaptureWindow:
    """How far below its mark a capture re-reads, and how far past the source clock a mark may go."""

    lookback: timedelta = DEFAULT_LOOKBACK
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW


def capture_changes(
    conn: psycopg.Connection,
    table: str,
    checkpoint: Checkpoint,
    spool_path: Path,
    window: CaptureWindow = CaptureWindow(),
    reconciler: Reconciler | None = None,
) -> CaptureResult:
    """Write the table's new and changed rows to `spool_path` (parquet) and compute the next checkpoint.

    `conn` should be in a read-only transaction (REPEATABLE READ with a `reconciler`, which then
    appends a delete row for each row captured before and gone now). Nothing is written to
    `spool_path` when no row changed. Raises SchemaDriftError, before reading any row, if a column
    the star schema reads is gone or retyped.
    """
    started = time.perf_counter()
    source = describe_source_table(conn, table)
    check_star_columns(source, checkpoint.source_schema)
    # the transaction's start on the source's own clock, in the session's zone (as `last_updated` is)
    source_clock = conn.execute("SELECT localtimestamp").fetchone()[0]
    ceiling = source_clock + window.clock_skew
    checkpoint, repairs = checkpoint.without_future_mark(ceiling)
    # the window's timestamps in the source's own precision, so pairs match exactly
    emitted = _Emitted(source.primary_key, checkpoint.window_frame(source.primary_key, _time_unit(source)), ceiling)
    schema = source.polled_schema if reconciler is None else delete_batch_schema(source)
    with SpoolFile(spool_path, schema) as spool:
        rows_read = _spool_new_rows(conn, source, checkpoint, window.lookback, ceiling, spool, emitted)
        vanished = None if reconciler is None else reconciler.vanished(conn, source, checkpoint.last_batch_key)
        if vanished is not None:
            spool.write(vanished.rows)
    after = _next_checkpoint(checkpoint, source, spool, emitted, window.lookback, ceiling)
    return CaptureResult(
        table=table,
        source=source,
        spool_path=spool_path,
        rows=spool.rows,
        bytes=spool_path.stat().st_size if spool.rows else 0,
        checkpoint_before=checkpoint,
        checkpoint_after=after,
        rows_read=rows_read,
        seconds=time.perf_counter() - started,
        low=spool.low,
        high=spool.high,
        schema_changes=describe_changes(source, checkpoint.source_schema),
        future_dated=emitted.future_dated(),
        source_clock=source_clock,
        repairs=repairs,
        vanished=vanished,
    )


def _time_unit(source: SourceTable) -> str:
    return source.schema.field("last_updated").type.unit


def _spool_new_rows(
    conn: psycopg.Connection,
    source: SourceTable,
    checkpoint: Checkpoint,
    lookback: timedelta,
    ceiling: datetime,
    spool: SpoolFile,
    emitted: _Emitted,
) -> int:
    """Append the rows not emitted before to the spool; returns how many rows were read."""
    rows_read = 0
    for parsed in rows_updated_since(conn, source, checkpoint.lower_bound(lookback)):
        rows_read += parsed.num_rows
        read = pl.from_arrow(parsed)
        emitted.note_read(read)
        frame = emitted.drop_already_emitted(read)
        if frame.height == 0:
            continue
        if OP in spool.schema.names:  # a reconciling run: captured rows are ordinary rows
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(OP))
        spool.write(frame)
        emitted.add(frame, window_start(_high_water(checkpoint, spool, ceiling), lookback))
    return rows_read


def _high_water(before: Checkpoint, spool: SpoolFile, ceiling: datetime) -> datetime | None:
    """The highest `last_updated` captured, capped at `ceiling` (the source clock plus skew); never
    below the mark before."""
    seen = None if spool.high is None else min(spool.high, ceiling)
    if seen is None:
        return before.high_water_mark
    return seen if before.high_water_mark is None else max(before.high_water_mark, seen)


def _next_checkpoint(
    before: Checkpoint,
    source: SourceTable,
    spool: SpoolFile,
    emitted: _Emitted,
    lookback: timedelta,
    ceiling: datetime,
) -> Checkpoint:
    high_water = _high_water(before, spool, ceiling)
    window = emitted.window(window_start(high_water, lookback))
    return Checkpoint(
        table=before.table,
        high_water_mark=high_water,
        window=window,
        last_batch_key=before.last_batch_key,
        batches=before.batches,
        rows=before.rows,
        source_schema=source.pg_types,
        history=list(before.history),
    )
