"""PostgreSQL access for the source and the warehouse, with a per-process connection pool."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import psycopg
from dagster import ConfigurableResource
from psycopg import sql
from psycopg_pool import ConnectionPool
from pydantic import Field


def redact_dsn(dsn: str) -> str:
    """A description of the DSN that is safe to log: user, host, port and database, never the password."""
    if "://" not in dsn:  # key=value form
        try:
            info = psycopg.conninfo.conninfo_to_dict(dsn)
        except psycopg.ProgrammingError:
            return "<unparseable DSN>"
        host, port, dbname, user = (info.get(k) for k in ("host", "port", "dbname", "user"))
    else:
        parts = urlsplit(dsn)
        query = parse_qs(parts.query)
        try:
            port = parts.port
        except ValueError:
            port = None
        host = parts.hostname or (query.get("host") or [None])[0]
        dbname = parts.path.lstrip("/") or None
        user = parts.username
    where = f"{host or 'localhost'}{':' + str(port) if port else ''}"
    return f"postgresql://{user + '@' if user else ''}{where}/{dbname or ''}"


class PostgresResource(ConfigurableResource):
    """A PostgreSQL database reached through a libpq URI (unix-socket hosts via `?host=/path` work).

    Build it with `EnvVar("TOTESYS_DSN")` so the DSN, and its password, never appear in config or logs.
    """

    dsn: str = Field(
        default="",
        description="libpq URI of the database. Pass an EnvVar: it may carry a password. "
        "Empty means the embedded default server's `embedded_database`.",
    )
    embedded_database: str = Field(default="", description="Database on the embedded server when dsn is empty.")
    schema_name: str = Field(default="", description="search_path for every session (branch deployments).")
    pool_max_size: int = Field(default=4, description="Connections kept per process.")
    connect_timeout_s: int = Field(default=10, description="Seconds before a connection attempt fails.")

    _pools: ClassVar[dict[str, ConnectionPool]] = {}
    _pools_lock: ClassVar[threading.Lock] = threading.Lock()

    @property
    def conninfo(self) -> str:
        """The DSN to connect with; starts (or joins) the embedded server when none is configured."""
        if self.dsn:
            return self.dsn
        if not self.embedded_database:
            raise ValueError("PostgresResource needs a dsn, or an embedded_database for the embedded default")
        from reveries_pipeline.embedded import embedded_dsn

        return embedded_dsn(self.embedded_database)

    @property
    def safe_name(self) -> str:
        return redact_dsn(self.dsn) if self.dsn else f"embedded PostgreSQL/{self.embedded_database}"

    def _configure(self, conn: psycopg.Connection) -> None:
        if self.schema_name:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema_name)))
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema_name)))
            conn.commit()

    def _pool(self) -> ConnectionPool:
        with self._pools_lock:
            conninfo = self.conninfo
            pool_key = f"{conninfo}#{self.schema_name}"
            pool = self._pools.get(pool_key)
            if pool is None or pool.closed:
                # Fail fast with libpq's own error (refused, bad password, unknown host) instead of
                # a pool timeout after waiting out every background reconnection attempt.
                psycopg.connect(conninfo, connect_timeout=self.connect_timeout_s).close()
                pool = ConnectionPool(
                    conninfo,
                    min_size=0,
                    max_size=self.pool_max_size,
                    kwargs={"connect_timeout": self.connect_timeout_s},
                    configure=self._configure,
                    open=True,
                    name=self.safe_name,
                )
                self._pools[pool_key] = pool
            return pool

    @classmethod
    def close_pools(cls) -> None:
        """Close every pool this process opened (before dropping or copying a database, say)."""
        with cls._pools_lock:
            for pool in cls._pools.values():
                pool.close()
            cls._pools.clear()

    @contextmanager
    def connection(self, *, read_only: bool = False) -> Iterator[psycopg.Connection]:
        """A pooled connection in one transaction: committed on success, rolled back on error.

        `read_only=True` issues SET TRANSACTION READ ONLY, so the source can never be written by mistake.
        """
        with self._pool().connection(timeout=self.connect_timeout_s) as conn:
            with conn.transaction():
                if read_only:
                    conn.execute("SET TRANSACTION READ ONLY")
                yield conn

    @contextmanager
    def raw_connection(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A dedicated (unpooled) connection, for DDL, COPY-heavy bulk work or long sessions."""
        with psycopg.connect(self.conninfo, connect_timeout=self.connect_timeout_s) as conn:
            self._configure(conn)
            conn.autocommit = autocommit
            yield conn
