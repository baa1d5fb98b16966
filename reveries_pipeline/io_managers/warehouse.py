"""PostgreSQL IO manager for the warehouse tables (psycopg 3).

Storing `warehouse/<table>` applies that table's pending processed batches: one COPY into a staging
table, one merge, and the load-ledger rows. When the asset hands over its load transaction, every
table of the run commits together (a crash anywhere leaves the warehouse as it was); otherwise each
table commits on its own. A batch already in the ledger is skipped, so replay is a no-op.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass

import polars as pl
import psycopg
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext
from psycopg import sql

from reveries_pipeline.io_managers.parquet import read_parquet_object
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.resources.new_objects import new_batches
from reveries_pipeline.warehouse.loader import load_table_batches, pending_batch_keys
from reveries_pipeline.warehouse.schema import LEDGER_TABLE


@dataclass(frozen=True)
class PendingLoad:
    """What a warehouse asset hands its IO manager: load `table`'s new batches from `source`,
    inside `transaction` (an open psycopg connection) when given."""

    table: str
    source: ObjectStore
    transaction: psycopg.Connection | None = None


def last_applied_key(conn, table: str) -> str | None:
    row = conn.execute(
        sql.SQL("SELECT max(batch_key) FROM {} WHERE table_name = %s").format(sql.Identifier(LEDGER_TABLE)),
        (table,),
    ).fetchone()
    return row[0] if row else None


class WarehouseIOManager(ConfigurableIOManager):
    warehouse: PostgresResource

    def handle_output(self, context: OutputContext, obj: PendingLoad) -> None:
        started = time.perf_counter()
        table = obj.table
        with ExitStack() as stack:
            conn = obj.transaction or stack.enter_context(self.warehouse.connection())
            candidates = [o.key for o in new_batches(obj.source, table, last_applied_key(conn, table))]
            keys = pending_batch_keys(conn, table, candidates)
            batches = [(key, read_parquet_object(obj.source, key)) for key in keys]
            result = load_table_batches(conn, table, batches)
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
