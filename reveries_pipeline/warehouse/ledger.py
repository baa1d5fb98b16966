"""The load ledger (`reveries_load_ledger`): one row per processed batch applied to the warehouse.

A batch's ledger row is written in the same transaction as its rows, so a crash leaves both
unchanged and a batch key already in the ledger is never applied again. Read it only while holding
the writer lock (locks.lock_warehouse): a load that waited for another then sees that one's rows.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from reveries_pipeline.warehouse.schema import LEDGER_TABLE


def last_applied_key(conn: psycopg.Connection, table: str) -> str | None:
    """The table's highest batch key in the ledger: where to resume listing the processed bucket."""
    row = conn.execute(
        sql.SQL("SELECT max(batch_key) FROM {} WHERE table_name = %s").format(sql.Identifier(LEDGER_TABLE)),
        (table,),
    ).fetchone()
    return row[0] if row else None


def applied_keys(conn: psycopg.Connection, keys: Iterable[str]) -> set[str]:
    """Those of `keys` already in the ledger."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return set()
    rows = conn.execute(
        sql.SQL("SELECT batch_key FROM {} WHERE batch_key = ANY(%s)").format(sql.Identifier(LEDGER_TABLE)),
        (keys,),
    ).fetchall()
    return {key for (key,) in rows}


def record_batches(conn: psycopg.Connection, table: str, row_counts: list[tuple[str, int]]) -> None:
    """Write a ledger row (batch key, row count) per batch, in the caller's transaction."""
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL("INSERT INTO {} (batch_key, table_name, row_count) VALUES (%s, %s, %s)").format(
                sql.Identifier(LEDGER_TABLE)
            ),
            [(key, table, rows) for key, rows in row_counts],
        )
