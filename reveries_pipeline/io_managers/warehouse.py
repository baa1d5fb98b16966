"""PostgreSQL IO manager for the warehouse tables (psycopg 3).

Storing `warehouse/<table>` applies that table's pending processed batches: one COPY into a staging
table, one merge, and the load-ledger rows. When the asset hands over its load transaction, every
table of the run commits together (a crash anywhere leaves the warehouse as it was); otherwise each
table commits on its own. A batch already in the ledger is skipped, so replay is a no-op.

The warehouse's writer lock is taken before the ledger is read, so a load that waited for another
one finds that load's batches in the ledger and skips them. A processed object that can't be read
fails the step with its UnreadableObjectError message (bucket and key) as the failure description.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass

import polars as pl
import psycopg
from dagster import ConfigurableIOManager, Failure, InputContext, MetadataValue, OutputContext
from psycopg import sql

from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.parquet import read_parquet_object
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.resources.object_store import UnreadableObjectError
from reveries_pipeline.warehouse.loader import LoadResult, load_table_batches, pending_batch_keys
from reveries_pipeline.warehouse.locks import DEFAULT_LOCK_TIMEOUT_S, lock_warehouse
from reveries_pipeline.warehouse.schema import LEDGER_TABLE


@dataclass(frozen=True)
class PendingLoad:
    """What a warehouse asset hands its IO manager: load `table`'s new batches from `source`,
    inside `transaction` (an open psycopg connection) when given; `lock_timeout_s` bounds the wait
    for the strong locks of the optional foreign-key bulk path."""

    table: str
    source: ObjectStore
    transaction: psycopg.Connection | None = None
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S


def last_applied_key(conn, table: str) -> str | None:
    row = conn.execute(
        sql.SQL("SELECT max(batch_key) FROM {} WHERE table_name = %s").format(sql.Identifier(LEDGER_TABLE)),
        (table,),
    ).fetchone()
    return row[0] if row else None


def read_batches(source: ObjectStore, keys: list[str]) -> list[tuple[str, pl.DataFrame]]:
    try:
        return [(key, read_parquet_object(source, key)) for key in keys]
    except UnreadableObjectError as exc:
        # A Failure reaches the run's error as it is; any other exception would be wrapped in
        # "Error occurred while handling output ...", with the bucket and key only in its cause.
        raise Failure(description=str(exc), metadata={"bucket": exc.bucket_url, "key": exc.key}) from exc


def _load_pending(conn: psycopg.Connection, obj: PendingLoad) -> LoadResult:
    lock_warehouse(conn)  # before reading the ledger (re-entrant: the asset has usually taken it)
    candidates = [o.key for o in new_batches(obj.source, obj.table, last_applied_key(conn, obj.table))]
    keys = pending_batch_keys(conn, obj.table, candidates)
    return load_table_batches(conn, obj.table, read_batches(obj.source, keys), obj.lock_timeout_s)


class WarehouseIOManager(ConfigurableIOManager):
    warehouse: PostgresResource

    def handle_output(self, context: OutputContext, obj: PendingLoad) -> None:
        started = time.perf_counter()
        table = obj.table
        with ExitStack() as stack:
            conn = obj.transaction or stack.enter_context(self.warehouse.connection())
            try:
                result = _load_pending(conn, obj)
            except BaseException:
                if obj.transaction is not None:
                    # Dagster never resumes the asset after a failed output, and may keep it suspended
                    # (its load transaction open, with a rebuild's TRUNCATE locks) for a while: end it
                    # now. Closing, not ROLLBACK: nothing of this load can commit afterwards either.
                    obj.transaction.close()
                raise
        seconds = time.perf_counter() - started
        context.add_output_metadata(
            {
                "rows_loaded": MetadataValue.int(result.rows_loaded),
                "batches_applied": MetadataValue.int(len(result.batches_applied)),
                "batches_skipped": MetadataValue.int(len(result.batches_skipped)),
                "last_batch_key": MetadataValue.text(result.batches_applied[-1] if result.batches_applied else "-"),
                "load_seconds": MetadataValue.float(round(seconds, 3)),
            }
        )
        for note in result.notes:
            context.log.warning(note)
        context.log.info(
            f"warehouse/{table}: applied {len(result.batches_applied)} batches ({result.rows_loaded} rows), "
            f"skipped {len(result.batches_skipped)} already loaded, in {seconds:.2f}s"
        )

    def load_input(self, context: InputContext) -> pl.DataFrame:
        table = context.asset_key.path[-1]
        with self.warehouse.connection(read_only=True) as conn:
            cur = conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
            columns = [d.name for d in cur.description]
            return pl.DataFrame(cur.fetchall(), schema=columns, orient="row", infer_schema_length=None)
