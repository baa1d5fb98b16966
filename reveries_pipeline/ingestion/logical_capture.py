"""Logical mode's capture for the raw asset: one slot read for every table, handed over as the same
per-table CaptureResult the poll path gives (change_capture.py), plus the slot position to confirm.

The rules the asset keeps in both modes: each table's spool file is stored as one batch, then its
checkpoint is saved. Logical mode adds one step at the end: once every table is stored, the slot is
confirmed up to what was read. A crash before that replays the same changes, which downstream
absorbs by (_commit_lsn, _change_seq).

A table whose checkpoint has no slot position (first logical run, or `reveries resnapshot`) is
snapshotted first, at the slot's confirmed position, then the change read carries on from there into
the same spool file: snapshot rows first, then every change committed after that position.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg

from reveries_pipeline.ingestion.change_capture import CaptureResult
from reveries_pipeline.ingestion.checkpoints import Checkpoint
from reveries_pipeline.ingestion.drift import SchemaDriftError, check_star_columns, describe_changes
from reveries_pipeline.ingestion.logical import (
    ChangeSpool,
    LogicalCaptureSettings,
    SlotRead,
    initial_snapshot,
    read_changes,
)
from reveries_pipeline.ingestion.logical.lsn import lsn_text
from reveries_pipeline.ingestion.logical.slot import missing_slot_error
from reveries_pipeline.ingestion.source_schema import SourceTable, describe_source_table
from reveries_pipeline.ingestion.spool import SpoolFile

SLOT_BUSY_ATTEMPTS = 5
SLOT_BUSY_WAIT_S = 0.2


@dataclass(frozen=True)
class LogicalRun:
    captures: list[CaptureResult]  # one per table captured, in the order asked for
    # confirm the slot up to here once every capture is stored; None when the run captured only some
    # of the published tables (confirming would skip the others' changes): they come again next run
    confirm_lsn: int | None
    start_lsn: int
    transactions: int
    failed: dict[str, Exception] = field(default_factory=dict)  # tables not captured (schema drift)

    @property
    def snapshotted(self) -> list[str]:
        return [c.table for c in self.captures if c.snapshot]


def capture_logical(
    conn: psycopg.Connection,
    settings: LogicalCaptureSettings,
    checkpoints: Mapping[str, Checkpoint],
    tables: Sequence[str],
    spool_dir: Path,
) -> LogicalRun:
    """Snapshot the tables that need it, then spool every change since the slot's position.

    `conn` is outside any transaction (autocommit); `checkpoints` holds every published table's (to
    tell a fresh start from a lost slot). A table whose star columns drifted is left out, in
    `failed`, before anything is read; SlotUnavailableError (which says how to re-snapshot) is raised
    if the slot is gone."""
    started = time.perf_counter()
    with conn.transaction():  # the slot functions below each need an idle connection
        sources = {table: describe_source_table(conn, table) for table in tables}
    failed = _drifted(sources, checkpoints)
    tables = [t for t in tables if t not in failed]
    to_snapshot = [t for t in tables if checkpoints[t].slot_lsn is None]
    if to_snapshot:
        _require_slot_unless_fresh(conn, settings, checkpoints)
    spool, read = _read_slot(conn, settings, to_snapshot, spool_dir)
    spooled = spool.tables()
    seconds = time.perf_counter() - started
    captures = [
        _capture_result(sources[t], checkpoints[t], spooled.get(t), spool_dir, read.upto_lsn, t in to_snapshot, seconds)
        for t in tables
    ]
    # a drifted table's changes stay in the slot (not confirmed) until its drift is resolved
    every_table = set(tables) >= set(settings.tables)
    confirm_lsn = read.upto_lsn if every_table else None
    return LogicalRun(captures, confirm_lsn, read.start_lsn, read.transactions, failed)


def _drifted(sources: Mapping[str, SourceTable], checkpoints: Mapping[str, Checkpoint]) -> dict[str, Exception]:
    failed: dict[str, Exception] = {}
    for table, source in sources.items():
        try:
            check_star_columns(source, checkpoints[table].source_schema)
        except SchemaDriftError as e:
            failed[table] = e
    return failed


def slot_summary(run: LogicalRun, confirmed: int | None) -> str:
    """The run's log line: what was read from the slot, and whether the slot was confirmed."""
    rows = sum(c.rows for c in run.captures)
    snapshot = f"snapshotted {', '.join(run.snapshotted)}; " if run.snapshotted else ""
    if confirmed is not None:
        slot = f"slot confirmed to {lsn_text(confirmed)}"
    elif run.confirm_lsn is None:
        slot = "slot not confirmed (only some tables captured, or one failed): those changes are read again"
    else:
        slot = "slot not confirmed"
    return (
        f"logical capture: {snapshot}{rows} rows from {run.transactions} transactions since "
        f"{lsn_text(run.start_lsn)}; {slot}"
    )


def _read_slot(
    conn: psycopg.Connection, settings: LogicalCaptureSettings, to_snapshot: list[str], spool_dir: Path
) -> tuple[ChangeSpool, SlotRead]:
    """The snapshot (if any) and the change read, into one spool. A slot is used by one session at a
    time: while source_change_sensor's peek (milliseconds) holds it, wait and read again, afresh."""
    for attempt in range(1, SLOT_BUSY_ATTEMPTS + 1):
        try:
            with ChangeSpool(spool_dir / f"read-{attempt}", settings.chunk_rows) as spool:
                if to_snapshot:
                    initial_snapshot(conn, settings, spool, to_snapshot)
                return spool, read_changes(conn, settings, spool)
        except psycopg.errors.ObjectInUse:
            if attempt == SLOT_BUSY_ATTEMPTS:
                raise  # a long-running reader of the slot: the step's RetryPolicy takes over
            time.sleep(SLOT_BUSY_WAIT_S * attempt)
    raise AssertionError("unreachable")


def _require_slot_unless_fresh(
    conn: psycopg.Connection, settings: LogicalCaptureSettings, checkpoints: Mapping[str, Checkpoint]
) -> None:
    """A missing slot is created only when no table has captured through it yet (a first run, or
    every table reset to re-snapshot); otherwise the changes it held are lost, and that must be said."""
    if any(checkpoints[t].slot_lsn is not None for t in settings.tables if t in checkpoints):
        with conn.transaction():
            exists = conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (settings.slot,))
            if exists.fetchone() is None:
                raise missing_slot_error(settings)


def _capture_result(
    source: SourceTable,
    before: Checkpoint,
    spooled: SpoolFile | None,
    spool_dir: Path,
    upto_lsn: int,
    snapshotted: bool,
    seconds: float,
) -> CaptureResult:
    """A table's capture: its spool file, or an empty one when no row of it changed. The checkpoint
    moves to the slot position when rows were read, or when the table was snapshotted (even empty)."""
    spool = spooled or SpoolFile(spool_dir / f"{source.name}.parquet", source.schema)  # never opened
    moved = spool.rows > 0 or snapshotted
    return CaptureResult(
        table=source.name,
        source=source,
        spool_path=spool.path,
        rows=spool.rows,
        bytes=spool.bytes,
        checkpoint_before=before,
        checkpoint_after=replace(before, slot_lsn=upto_lsn, source_schema=source.pg_types) if moved else before,
        rows_read=spool.rows,
        seconds=seconds,
        low=spool.low,
        high=spool.high,
        schema_changes=describe_changes(source, before.source_schema),
        snapshot=snapshotted,
    )
