"""The bulk path for large loads: drop a table's foreign keys, insert, re-add the very same constraints.

Per-row FK triggers dominate a large insert; re-adding a constraint checks every row with one
anti-join instead, in the same transaction. Dropping them needs ACCESS EXCLUSIVE locks on the table
and the tables it references until commit, which an open reader holds off. So the path runs in a
savepoint under lock_timeout (locks.strong_lock_section), and if the locks aren't granted in time it
rolls back to the savepoint and inserts with the constraints in place; what it returns says why
and who was in the way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from reveries_pipeline.warehouse.locks import blocking_sessions, describe, strong_lock_section

log = logging.getLogger(__name__)

# Above this many new rows (and, for a table holding rows, at least a quarter of its size) the bulk
# path pays off.
BULK_FK_MIN_ROWS = 2_000


@dataclass(frozen=True)
class Inserted:
    """What an insert wrote, and why it took the slower trigger-checked path if it did."""

    rows: int
    kept_foreign_keys_because: str | None = None  # an open reader's locks kept the bulk path out


def bulk_path_pays_off(conn: psycopg.Connection, table: str, new_rows: int, into_empty_table: bool) -> bool:
    if new_rows < BULK_FK_MIN_ROWS:
        return False
    if into_empty_table:
        return True
    (estimate,) = conn.execute(
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(%s)",
        (sql.Identifier(table).as_string(conn),),
    ).fetchone()
    return new_rows * 4 >= estimate


def insert_with_foreign_keys_dropped(
    conn: psycopg.Connection, table: str, insert: Callable[[], int], lock_timeout_s: float
) -> Inserted:
    """Run `insert` with the table's foreign keys dropped and re-added, or with them in place if the
    ACCESS EXCLUSIVE locks that needs (on the table and the tables it references) aren't granted
    within lock_timeout: an open reader then costs this load its speed-up, never a stall."""
    fks = _foreign_keys(conn, table)
    if not fks:
        return Inserted(insert())
    try:
        with strong_lock_section(conn, lock_timeout_s):
            _drop_foreign_keys(conn, table, fks)
            rows = insert()
            _restore_foreign_keys(conn, table, fks)
            return Inserted(rows)
    except psycopg.errors.LockNotAvailable:
        # Rolled back to the savepoint: the constraints are back, the blockers still hold their locks.
        blockers = blocking_sessions(conn, [table, *sorted({ref for *_, ref in fks})])
        note = (
            f"{table}: inserted with its foreign keys in place (row-by-row checks, slower) because dropping "
            f"them waited {lock_timeout_s:g}s (lock_timeout) for locks held by: {describe(blockers)}"
        )
        log.warning(note)
    return Inserted(insert(), kept_foreign_keys_because=note)


def _foreign_keys(conn: psycopg.Connection, table: str) -> list[tuple[str, str, str]]:
    """(name, definition, referenced table) of the table's foreign keys, in a fixed lock order."""
    return conn.execute(
        """
        SELECT c.conname, pg_get_constraintdef(c.oid), r.relname FROM pg_constraint c
        JOIN pg_class r ON r.oid = c.confrelid
        WHERE c.conrelid = to_regclass(%s) AND c.contype = 'f'
        ORDER BY c.confrelid::regclass::text, c.conname
        """,
        (sql.Identifier(table).as_string(conn),),
    ).fetchall()


def _drop_foreign_keys(conn: psycopg.Connection, table: str, fks: list[tuple[str, str, str]]) -> None:
    conn.execute(
        sql.SQL("ALTER TABLE {} {}").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(n)) for n, *_ in fks),
        )
    )


def _restore_foreign_keys(conn: psycopg.Connection, table: str, fks: list[tuple[str, str, str]]) -> None:
    # Definitions come from the server's own catalog (pg_get_constraintdef), not from input. Re-adding
    # checks every row with one anti-join per key instead of one trigger query per row and key.
    conn.execute(
        sql.SQL("ALTER TABLE {} {}").format(
            sql.Identifier(table),
            sql.SQL(", ").join(
                sql.SQL("ADD CONSTRAINT {} {}").format(sql.Identifier(n), sql.SQL(definition))
                for n, definition, _ in fks
            ),
        )
    )
