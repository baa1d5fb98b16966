"""The warehouse schema: names the tables in load order, and creates or migrates them from ddl.sql.

The warehouse records the version of ddl.sql it was built with (`reveries_schema_version`). A load
checks it with one SELECT and applies the DDL only when it differs: the DDL's locks conflict with
readers, so it must not run on every load.

What identifies a row (a dimension's key, a fact's version and record id) and the foreign keys come
from the catalog; ddl.sql declares the same foreign keys (`declared_foreign_keys` reads them back).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources
from typing import NamedTuple

import psycopg
from psycopg import sql

from reveries_pipeline.catalog import DELETED_ROWS, PROCESSED_TABLE_NAMES, STAR_TABLES, ForeignKey
from reveries_pipeline.warehouse import reporting
from reveries_pipeline.warehouse.locks import DEFAULT_LOCK_TIMEOUT_S, lock_warehouse, strong_locks_or_fail

# The warehouse holds the star tables, in load order (dimensions before the facts), then the deletion
# markers (catalog.DELETED_ROWS): a table of ours beside the reference schema, loaded like the rest.
WAREHOUSE_TABLES: tuple[str, ...] = PROCESSED_TABLE_NAMES
DELETED_ROWS_TABLE = DELETED_ROWS.name

LEDGER_TABLE = "reveries_load_ledger"
# Kept by the loader for the dashboard (reporting.py): emptied with the warehouse, filled by its loads.
DERIVED_TABLES: tuple[str, ...] = reporting.DERIVED_TABLES

# Primary key of each dimension.
DIMENSION_KEY: dict[str, str] = {t: s.natural_id for t, s in STAR_TABLES.items() if not s.is_fact}

# The SERIAL surrogate key of each fact table; processed frames do not carry it.
RECORD_ID: dict[str, str] = {t: s.record_id for t, s in STAR_TABLES.items() if s.is_fact}

# A fact row version: (natural id, last-updated date column, last-updated time column).
FACT_VERSION_KEY: dict[str, tuple[str, ...]] = {t: s.key for t, s in STAR_TABLES.items() if s.is_fact}

# Tables appended to, never updated: a row goes in once per key (a fact's version, a marker).
APPEND_ONLY_KEY: dict[str, tuple[str, ...]] = {**FACT_VERSION_KEY, DELETED_ROWS_TABLE: DELETED_ROWS.key}

SCHEMA_VERSION_TABLE = "reveries_schema_version"


def warehouse_ddl() -> str:
    """The text of ddl.sql, shipped as package data."""
    return resources.files("reveries_pipeline.warehouse").joinpath("ddl.sql").read_text(encoding="utf-8")


def schema_version() -> str:
    """The version this code expects: a digest of ddl.sql, so any change to it is a migration."""
    return hashlib.sha256(warehouse_ddl().encode("utf-8")).hexdigest()


def require_warehouse_table(table: str) -> None:
    if table not in WAREHOUSE_TABLES:
        raise ValueError(f"unknown warehouse table {table!r}; expected one of {WAREHOUSE_TABLES}")


_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS (\w+) \((.*?)^\);", re.MULTILINE | re.DOTALL)
_COLUMN_REFERENCE = re.compile(r"^\s*(\w+)\s[^,\n]*\bREFERENCES (\w+) \((\w+)\)", re.MULTILINE)


@cache
def declared_foreign_keys() -> tuple[ForeignKey, ...]:
    """The foreign keys ddl.sql declares (column-level REFERENCES clauses), in its order.

    The catalog's `FOREIGN_KEYS` are the ones the code uses (the orphan check among them); ddl.sql
    must declare exactly those, which the tests hold it to with this reading of it.
    """
    return tuple(
        ForeignKey(table, *reference.groups())
        for table, body in _CREATE_TABLE.findall(warehouse_ddl())
        for reference in _COLUMN_REFERENCE.finditer(body)
    )


class Column(NamedTuple):
    name: str
    type: str  # as PostgreSQL prints it, e.g. "numeric(10,2)"
    nullable: bool


def table_columns(conn: psycopg.Connection, table: str) -> list[Column]:
    """A table's columns, in order, from the server's catalog (empty if there is no such table)."""
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull FROM pg_attribute a
        WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (sql.Identifier(table).as_string(conn),),
    ).fetchall()
    return [Column(*row) for row in rows]


def installed_schema_version(conn: psycopg.Connection) -> str | None:
    """The version recorded in the warehouse, with one SELECT; None when there is none yet (a new
    warehouse, or one built before versions were recorded)."""
    try:
        with conn.transaction():  # a savepoint: a missing table leaves the caller's transaction usable
            row = conn.execute(
                sql.SQL("SELECT version FROM {}").format(sql.Identifier(SCHEMA_VERSION_TABLE))
            ).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return row[0] if row else None


def _apply_ddl(conn: psycopg.Connection, lock_timeout_s: float) -> None:
    # CREATE INDEX takes SHARE locks on the facts and CREATE OR REPLACE VIEW an ACCESS EXCLUSIVE lock
    # on each view, even when nothing changes: hence only on a version change, and under lock_timeout.
    relations = (*WAREHOUSE_TABLES, *DERIVED_TABLES, LEDGER_TABLE, SCHEMA_VERSION_TABLE)
    with strong_locks_or_fail(conn, "creating or migrating the warehouse schema", relations, lock_timeout_s):
        # No parameters: psycopg sends the whole script (several statements) in one simple query.
        conn.execute(warehouse_ddl().encode("utf-8"))
        conn.execute(
            sql.SQL(
                "INSERT INTO {} (version) VALUES (%s) ON CONFLICT (singleton) "
                "DO UPDATE SET version = EXCLUDED.version, applied_at = now()"
            ).format(sql.Identifier(SCHEMA_VERSION_TABLE)),
            (schema_version(),),
        )
        reporting.fill_new_tables(conn)  # e.g. the current tables that replaced the old views


def apply_warehouse_ddl(conn: psycopg.Connection, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> None:
    """Apply ddl.sql unconditionally and record its version (loads use ensure_warehouse_schema).

    Idempotent, and safe on a warehouse built beforehand with this schema. Runs in a transaction
    (a savepoint if the caller already has one open); it does not commit the caller's transaction.
    Raises WarehouseLockTimeout, naming the sessions in the way, if its locks aren't granted in time.
    """
    with conn.transaction():
        lock_warehouse(conn)
        _apply_ddl(conn, lock_timeout_s)


def ensure_warehouse_schema(conn: psycopg.Connection, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> bool:
    """Create or migrate the schema only if its recorded version is not this code's; True if it did.

    Up to date (every load but the first after a deploy), this is one SELECT and no lock a reader
    would notice. Otherwise it waits for any running writer (the advisory lock), checks again (a
    concurrent writer may have migrated meanwhile) and applies ddl.sql under lock_timeout. A
    warehouse built before versions were recorded is migrated once: the DDL is idempotent.
    """
    wanted = schema_version()
    if installed_schema_version(conn) == wanted:
        return False
    with conn.transaction():
        lock_warehouse(conn)
        if installed_schema_version(conn) == wanted:
            return False
        _apply_ddl(conn, lock_timeout_s)
    return True


def truncate_warehouse(conn: psycopg.Connection, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> None:
    """Empty every warehouse table and the load ledger (record ids restart), in the caller's transaction.

    TRUNCATE needs ACCESS EXCLUSIVE locks until the transaction ends: readers that start meanwhile
    wait for the commit (then see the new contents); readers already open make it wait at most
    lock_timeout, then it fails naming them. Takes the writer lock, so call it inside a transaction.
    """
    lock_warehouse(conn)
    tables = (*WAREHOUSE_TABLES, *DERIVED_TABLES, LEDGER_TABLE)
    with strong_locks_or_fail(conn, "emptying the warehouse (TRUNCATE)", tables, lock_timeout_s):
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY").format(sql.SQL(", ").join(sql.Identifier(t) for t in tables))
        )


def empty_warehouse(conn: psycopg.Connection, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> None:
    """Create the schema if absent, then empty every table and the load ledger (record ids restart)."""
    ensure_warehouse_schema(conn, lock_timeout_s)
    with conn.transaction():
        truncate_warehouse(conn, lock_timeout_s)
