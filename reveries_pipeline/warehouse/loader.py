"""Loads processed star-schema batches into a warehouse table, each batch exactly once.

The batches not yet in the load ledger are concatenated and written with one COPY: straight into
an empty table, otherwise into a staging table and merged from there (merge.py). Their ledger rows
are written in the same transaction as their rows (ledger.py), so a crash leaves both unchanged and
a replayed batch key is a no-op.

Every load first takes the warehouse's writer lock (locks.py): concurrent loaders queue instead of
deadlocking, and the second sees the first's ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl
import psycopg
from psycopg import sql

from reveries_pipeline.catalog import DELETED_ROWS, FACT_TABLES
from reveries_pipeline.warehouse import ledger, merge, reporting, staging
from reveries_pipeline.warehouse.locks import DEFAULT_LOCK_TIMEOUT_S, lock_warehouse
from reveries_pipeline.warehouse.schema import RECORD_ID, require_warehouse_table, table_columns


@dataclass
class LoadResult:
    table: str
    batches_applied: list[str] = field(default_factory=list)  # batch keys applied now
    batches_skipped: list[str] = field(default_factory=list)  # already in the ledger (replays): no-op
    rows_loaded: int = 0  # rows inserted or updated
    notes: list[str] = field(default_factory=list)  # why a faster path was not taken, for the run's log


def load_table_batches(
    conn: psycopg.Connection,
    table: str,
    batches: Iterable[tuple[str, pl.DataFrame]],
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> LoadResult:
    """Apply the not-yet-applied batches of one table with one COPY and one merge, plus their ledger rows.

    Runs inside the caller's transaction (as a savepoint; as its own transaction on an autocommit
    connection) and does not commit it. Takes the warehouse's writer lock (waiting for any other
    writer) before reading the ledger. Batches already in the ledger, or repeated within `batches`,
    are skipped. `lock_timeout_s` bounds the wait of the optional foreign-key bulk path.
    """
    require_warehouse_table(table)
    batches = list(batches)
    result = LoadResult(table=table)
    if not batches:
        return result
    with conn.transaction():
        lock_warehouse(conn)
        applied = ledger.applied_keys(conn, (key for key, _ in batches))
        columns = _frame_columns(conn, table)
        todo = _new_batches(batches, applied, columns, table, result)
        if not todo:
            return result
        frames = [frame for _, frame in todo if frame.height]
        if frames:
            since = reporting.high_water(conn, table) if table in FACT_TABLES else 0
            result.rows_loaded = _write_rows(conn, table, frames, columns, lock_timeout_s, result.notes)
            _fold_into_reporting(conn, table, since)
        ledger.record_batches(conn, table, [(key, frame.height) for key, frame in todo])
        result.batches_applied = [key for key, _ in todo]
    return result


def _fold_into_reporting(conn: psycopg.Connection, table: str, since_record_id: int) -> None:
    """Keep the current tables and pre-aggregates in step with what was just written (same transaction)."""
    if table in FACT_TABLES:
        reporting.after_fact_load(conn, table, since_record_id)
    elif table == DELETED_ROWS.name:
        reporting.after_marker_load(conn)


def load_batch(conn: psycopg.Connection, table: str, batch_key: str, frame: pl.DataFrame) -> bool:
    """Apply one processed batch inside the caller's transaction.

    Returns False (and changes nothing) if `batch_key` is already in the load ledger.
    """
    return bool(load_table_batches(conn, table, [(batch_key, frame)]).batches_applied)


def _frame_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """The columns a processed frame of `table` carries: the table's columns minus a fact's record id."""
    columns = table_columns(conn, table)
    if not columns:
        raise LookupError(f"warehouse table {table!r} does not exist; run apply_warehouse_ddl first")
    return [c.name for c in columns if c.name != RECORD_ID.get(table)]


def _new_batches(
    batches: list[tuple[str, pl.DataFrame]], applied: set[str], columns: list[str], table: str, result: LoadResult
) -> list[tuple[str, pl.DataFrame]]:
    """The batches to apply, each conformed to the table's columns; the others go to batches_skipped."""
    todo: list[tuple[str, pl.DataFrame]] = []
    seen: set[str] = set()
    for key, frame in batches:
        if key in applied or key in seen:
            result.batches_skipped.append(key)
            continue
        seen.add(key)
        todo.append((key, _conform(frame, columns, table, key)))
    return todo


def _conform(frame: pl.DataFrame, columns: list[str], table: str, batch_key: str) -> pl.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in columns]
    if missing or extra:
        raise ValueError(
            f"batch {batch_key!r} does not match {table}: missing columns {missing}, unexpected columns {extra}"
        )
    return frame.select(columns)


def _write_rows(
    conn: psycopg.Connection,
    table: str,
    frames: list[pl.DataFrame],
    columns: list[str],
    lock_timeout_s: float,
    notes: list[str],
) -> int:
    """COPY the frames straight into an empty table, or into staging and merge; the rows written."""
    combined = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")
    if _is_empty(conn, table):
        return merge.copy_into_empty_table(conn, table, combined, columns, lock_timeout_s, notes)
    staged = staging.create_staging_table(conn, table)
    staging.copy_rows(conn, staged, combined, columns)
    loaded = merge.merge_staged(conn, table, staged, columns, combined.height, lock_timeout_s, notes)
    conn.execute(sql.SQL("DROP TABLE {}").format(staged))
    return loaded


def _is_empty(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))).fetchone()[0]
