"""The source-side setup of logical capture: the SQL a DBA runs (or that is applied on first use),
and the SQL that removes it.

Needs wal_level=logical (RDS: rds.logical_replication=1) and a role with REPLICATION (RDS: the
rds_replication role) that owns the tables (CREATE PUBLICATION ... FOR TABLE and ALTER TABLE need it).
REPLICA IDENTITY FULL makes every update and delete carry the whole old row: an update that leaves a
TOASTed value (over ~2 kB) unchanged sends no value for it, and the old row is where it is found.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from reveries_pipeline.ingestion.logical.session import require_idle
from reveries_pipeline.ingestion.logical.settings import LogicalCaptureSettings
from reveries_pipeline.ingestion.logical.slot import SlotState, require_publication, slot_state

_DEFAULT = LogicalCaptureSettings()


def _create_publication(settings: LogicalCaptureSettings) -> sql.Composed:
    tables = sql.SQL(", ").join(sql.Identifier(t) for t in settings.tables)
    return sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(sql.Identifier(settings.publication), tables)


def replica_identity_full(table: str) -> sql.Composed:
    """The statement that makes every update and delete of `table` carry its whole old row."""
    return sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(sql.Identifier(table))


def _create_slot(settings: LogicalCaptureSettings) -> sql.Composed:
    return sql.SQL("SELECT pg_create_logical_replication_slot({}, 'pgoutput')").format(sql.Literal(settings.slot))


def setup_sql(settings: LogicalCaptureSettings = _DEFAULT) -> str:
    """The script a DBA runs once on the source database (what ensure_publication_and_slot applies)."""
    statements = [
        _create_publication(settings),
        *(replica_identity_full(t) for t in settings.tables),
        _create_slot(settings),
    ]
    header = (
        "-- Reveries logical change capture. Needs wal_level = logical (RDS: rds.logical_replication = 1).\n"
        "-- Run as the tables' owner, with REPLICATION (RDS: GRANT rds_replication TO <role>).\n"
        "-- One statement at a time, as psql -f runs it: a slot can't be created in a transaction that wrote.\n"
        "-- Then take the initial snapshot before capturing changes. The slot holds WAL until it is confirmed.\n"
    )
    return header + "".join(f"{s.as_string()};\n" for s in statements)


def _drop_statements(settings: LogicalCaptureSettings) -> list[sql.Composed]:
    slot = sql.SQL("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = {}").format(
        sql.Literal(settings.slot)
    )
    return [slot, sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(settings.publication))]


def drop_sql(settings: LogicalCaptureSettings = _DEFAULT) -> str:
    """Removes the slot and publication. A forgotten slot keeps every WAL segment since its position
    and fills the source's disk: drop it when logical capture is retired."""
    header = "-- Reveries logical change capture: remove it (capturing again then needs a new initial snapshot).\n"
    return header + "".join(f"{s.as_string()};\n" for s in _drop_statements(settings))


def drop_publication_and_slot(conn: psycopg.Connection, settings: LogicalCaptureSettings = _DEFAULT) -> None:
    """Run drop_sql: what is already gone is skipped. Each statement in its own transaction."""
    require_idle(conn)
    for statement in _drop_statements(settings):
        with conn.transaction():
            conn.execute(statement)


def ensure_publication_and_slot(conn: psycopg.Connection, settings: LogicalCaptureSettings = _DEFAULT) -> SlotState:
    """Create what setup_sql creates and is missing; returns the slot's state. Idempotent.

    A new slot starts at its consistent point: changes committed after it are decoded, earlier ones
    are the initial snapshot's to read."""
    require_idle(conn)
    with conn.transaction():
        if conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (settings.publication,)).fetchone() is None:
            conn.execute(_create_publication(settings))
    identities = conn.execute(
        "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relreplident <> 'f'"
        " AND relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
        (list(settings.tables),),
    ).fetchall()
    for (table,) in identities:
        # one table a transaction: holding one ACCESS EXCLUSIVE lock at a time, it can't deadlock
        # with the source's own transactions
        with conn.transaction():
            conn.execute(replica_identity_full(table))
    with conn.transaction():
        require_publication(conn, settings)
    # a slot can't be created in a transaction that wrote: its own transaction
    try:
        with conn.transaction():
            exists = conn.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (settings.slot,))
            if exists.fetchone() is None:
                conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (settings.slot,))
    except psycopg.errors.DuplicateObject:
        pass  # created meanwhile by another process: the same slot
    with conn.transaction():
        return slot_state(conn, settings)
