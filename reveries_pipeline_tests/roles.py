"""A read-only login role, as the dashboard gets one: what it may and may not do, and its removal
after a test (roles belong to the whole server, which every test of the session shares)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo


@contextmanager
def temporary_role(admin_dsn: str) -> Iterator[str]:
    """A fresh role name; the role, and whatever `admin_dsn`'s database granted it, are dropped after."""
    role = f"t_reader_{uuid.uuid4().hex[:10]}"
    try:
        yield role
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def assert_reads_only(admin_dsn: str, role: str, statement_timeout: str, outlast_timeout: bool = True) -> None:
    """`role` reads a table created after it was set up, writes and creates nothing (even with
    read-only turned off for its session), and (with `outlast_timeout`, for a short timeout) has a
    statement cancelled past the timeout."""
    table = sql.Identifier(f"made_later_{uuid.uuid4().hex[:8]}")
    with psycopg.connect(admin_dsn, autocommit=True) as admin:  # as the loader would, afterwards
        admin.execute(sql.SQL("CREATE TABLE {} (x int)").format(table))
        admin.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(table))
        try:
            _assert_reads_only(admin_dsn, role, statement_timeout, outlast_timeout, table)
        finally:
            admin.execute(sql.SQL("DROP TABLE {}").format(table))


def _assert_reads_only(
    admin_dsn: str, role: str, statement_timeout: str, outlast_timeout: bool, table: sql.Identifier
) -> None:
    with psycopg.connect(make_conninfo(admin_dsn, user=role), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)
        assert conn.execute(sql.SQL("SELECT x FROM {}").format(table)).fetchall() == [(1,)]
        assert conn.execute("SHOW statement_timeout").fetchone() == (statement_timeout,)
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(sql.SQL("INSERT INTO {} VALUES (2)").format(table))
        if outlast_timeout:
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute("SELECT pg_sleep(10)")
        # read-only is only a session default a client may turn off: the privileges still refuse
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(sql.SQL("INSERT INTO {} VALUES (2)").format(table))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE planted (x int)")
