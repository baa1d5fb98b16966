"""Loads processed star-schema batches into a warehouse table, each batch exactly once.

One walk per table, inside the run's load transaction and under the writer lock its caller took once
(locks.lock_warehouse): list the processed batches after the table's last ledger key, drop those the
ledger already holds, read them, and apply them. Applying concatenates the batches and writes them
with one COPY: straight into an empty table, otherwise through a staging table and a merge
(merge.py). Their ledger rows are written in the same transaction as their rows (ledger.py), so a
crash leaves both unchanged and a replayed batch key is a no-op. The current tables and
pre-aggregates follow in the same transaction (reporting.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import polars as pl
import psycopg
from dagster import Failure
from psycopg import sql

from reveries_pipeline.catalog import DELETED_ROWS, FACT_TABLES
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.parquet import opened_parquet_object
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline.resources.object_errors import UnreadableObjectError
from reveries_pipeline.resources.secrets import scrub, scrubbed_exception
from reveries_pipeline.resources.untrusted import bounded
from reveries_pipeline.warehouse import ledger, merge, reporting
from reveries_pipeline.warehouse.batch_rows import BatchRows, FrameBatch, ObjectBatch
from reveries_pipeline.warehouse.foreign_keys import Inserted
from reveries_pipeline.warehouse.locks import DEFAULT_LOCK_TIMEOUT_S, lock_warehouse
from reveries_pipeline.warehouse.schema import RECORD_ID, require_warehouse_table, table_columns

Batch = tuple[str, pl.DataFrame]  # (processed batch key, its rows)


@dataclass
class LoadResult:
    table: str
    batches_applied: list[str] = field(default_factory=list)  # batch keys applied now
    batches_skipped: list[str] = field(default_factory=list)  # already in the ledger (replays): no-op
    rows_loaded: int = 0  # rows inserted or updated
    kept_foreign_keys_because: str | None = None  # why the bulk path was not taken, for the run's log


def apply_pending(
    conn: psycopg.Connection, store: ObjectStore, table: str, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S
) -> LoadResult:
    """List, filter, read and apply `table`'s processed batches the warehouse doesn't hold yet.

    The caller's transaction must hold the writer lock (lock_warehouse), taken before the first table.
    """
    require_warehouse_table(table)
    listed = [o.key for o in new_batches(store, table, ledger.last_applied_key(conn, table))]
    applied = ledger.applied_keys(conn, listed)
    pending = [key for key in dict.fromkeys(listed) if key not in applied]
    with _opened(store, pending) as batches:
        result = _apply(conn, table, batches, lock_timeout_s)
    result.batches_skipped[:0] = [key for key in listed if key in applied]
    return result


def load_table_batches(
    conn: psycopg.Connection, table: str, batches: list[Batch], lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S
) -> LoadResult:
    """Apply batches already in memory (tools and tests), skipping those the ledger holds.

    Runs in a savepoint of the caller's transaction (its own transaction on an autocommit connection),
    takes the writer lock first, and does not commit.
    """
    require_warehouse_table(table)
    batches = list(batches)
    if not batches:
        return LoadResult(table)
    with conn.transaction():
        lock_warehouse(conn)
        applied = ledger.applied_keys(conn, (key for key, _ in batches))
        todo = [FrameBatch(key, frame) for key, frame in batches if key not in applied]
        result = _apply(conn, table, todo, lock_timeout_s)
        result.batches_skipped[:0] = [key for key, _ in batches if key in applied]
        return result


def load_batch(conn: psycopg.Connection, table: str, batch_key: str, frame: pl.DataFrame) -> bool:
    """Apply one processed batch inside the caller's transaction.

    Returns False (and changes nothing) if `batch_key` is already in the load ledger.
    """
    return bool(load_table_batches(conn, table, [(batch_key, frame)]).batches_applied)


def _apply(conn: psycopg.Connection, table: str, batches: Sequence[BatchRows], lock_timeout_s: float) -> LoadResult:
    """Write batches the ledger doesn't hold (a key repeated within them goes in once), with their ledger rows."""
    result = LoadResult(table)
    if not batches:
        return result
    columns = _frame_columns(conn, table)
    todo = _first_of_each_key(batches, columns, table, result)
    with_rows = [batch for batch in todo if batch.height]
    if with_rows:
        since = reporting.high_water(conn, table) if table in FACT_TABLES else 0
        inserted = _write_rows(conn, table, with_rows, columns, lock_timeout_s)
        result.rows_loaded, result.kept_foreign_keys_because = inserted.rows, inserted.kept_foreign_keys_because
        _fold_into_reporting(conn, table, since, lock_timeout_s)
    ledger.record_batches(conn, table, [(batch.key, batch.height) for batch in todo])
    result.batches_applied = [batch.key for batch in todo]
    return result


@contextmanager
def _opened(store: ObjectStore, keys: list[str]) -> Iterator[list[ObjectBatch]]:
    """The pending objects, open (footers read and checked) until the table is loaded."""
    try:
        with ExitStack() as stack:
            yield [ObjectBatch(key, stack.enter_context(opened_parquet_object(store, key))) for key in keys]
    except UnreadableObjectError as exc:
        # A Failure's description becomes the step's error as it is: the reader's message, naming
        # the bucket and key (any other exception is reported wrapped, its message only in the cause).
        raise Failure(
            description=scrub(str(exc)), metadata={"bucket": scrub(exc.bucket_url), "key": bounded(exc.key)}
        ) from scrubbed_exception(exc)


def _fold_into_reporting(conn: psycopg.Connection, table: str, since_record_id: int, lock_timeout_s: float) -> None:
    """Keep the current tables and pre-aggregates in step with what was just written (same transaction)."""
    if table in FACT_TABLES:
        reporting.after_fact_load(conn, table, since_record_id, lock_timeout_s)
    elif table == DELETED_ROWS.name:
        reporting.after_marker_load(conn)


def _frame_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """The columns a processed frame of `table` carries: the table's columns minus a fact's record id."""
    columns = table_columns(conn, table)
    if not columns:
        raise LookupError(f"warehouse table {table!r} does not exist; run apply_warehouse_ddl first")
    return [c.name for c in columns if c.name != RECORD_ID.get(table)]


def _first_of_each_key(
    batches: Sequence[BatchRows], columns: list[str], table: str, result: LoadResult
) -> list[BatchRows]:
    """The batches to apply, each checked against the table's columns; a repeated key goes to batches_skipped."""
    todo: list[BatchRows] = []
    seen: set[str] = set()
    for batch in batches:
        if batch.key in seen:
            result.batches_skipped.append(batch.key)
            continue
        seen.add(batch.key)
        _check_columns(batch, columns, table)
        todo.append(batch)
    return todo


def _check_columns(batch: BatchRows, columns: list[str], table: str) -> None:
    missing = [c for c in columns if c not in batch.column_names]
    extra = [c for c in batch.column_names if c not in columns]
    if missing or extra:
        raise ValueError(
            f"batch {batch.key!r} does not match {table}: missing columns {missing}, unexpected columns {extra}"
        )


def _write_rows(
    conn: psycopg.Connection, table: str, batches: list[BatchRows], columns: list[str], lock_timeout_s: float
) -> Inserted:
    """COPY the batches' rows straight into an empty table, or stage and merge them."""
    if _is_empty(conn, table):
        return merge.copy_into_empty_table(conn, table, batches, columns, lock_timeout_s)
    return merge.merge_into_table(conn, table, batches, columns, lock_timeout_s)


def _is_empty(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))).fetchone()[0]
