"""PostgreSQL access for the source and the warehouse, with a per-process connection pool."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import psycopg
from dagster import ConfigurableResource, InitResourceContext
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool
from pydantic import Field

from reveries_pipeline.resources.secrets import dsn_secret_forms, install_log_scrubbing, remember_dsn, scrub

URI_SCHEMES = ("postgresql", "postgres")
# Pasted by an operator to percent-encode a password without echoing it or keeping it in shell history.
PERCENT_ENCODE_COMMAND = (
    'python3 -c \'import getpass, urllib.parse; print(urllib.parse.quote(getpass.getpass("password: "), safe=""))\''
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,19}")  # shown back only when it looks like one
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_QUOTED = re.compile(r'"[^"]*"')

install_log_scrubbing()  # psycopg_pool logs connection errors itself


class InvalidDsnError(ValueError):
    """A DSN libpq can't use; the message says what is wrong without quoting the password."""


class DatabaseConnectionError(psycopg.OperationalError):
    """A failed connection attempt, its libpq message scrubbed of the password (still transient)."""


def _uri_problem(dsn: str) -> str | None:
    scheme, _, rest = dsn.partition("://")
    if scheme.lower() not in URI_SCHEMES:
        shown = repr(scheme) if _SCHEME.fullmatch(scheme) else "(not shown)"
        return f"unknown URI scheme {shown}; a libpq URI starts with postgresql:// or postgres://"
    before_query = rest.partition("?")[0]
    userinfo = before_query.rpartition("@")[0]
    unencoded = [
        (any(c.isspace() for c in rest), "it contains a space or other whitespace (write a space as %20)"),
        (_BAD_PERCENT.search(rest), "a '%' is not followed by two hex digits (write a literal % as %25)"),
        (before_query.count("@") > 1, "the user or password holds an unencoded '@' (write it as %40)"),
        ("/" in userinfo, "the user or password holds an unencoded '/' (write it as %2F)"),
        ("#" in userinfo, "the user or password holds an unencoded '#' (write it as %23)"),
    ]
    for found, problem in unencoded:
        if found:
            return f"{problem}; percent-encode the password with: {PERCENT_ENCODE_COMMAND}"
    return None


def _libpq_problem(dsn: str) -> str | None:
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        message = str(exc).strip()
    else:
        ports = (info.get("port") or "").split(",")
        if not all(p == "" or (p.isdigit() and 1 <= int(p) <= 65535) for p in ports):
            return "the port is not a number from 1 to 65535"
        return None
    # libpq quotes pieces of the DSN, and any piece may be a password's: hide everything it quotes
    unquoted = _QUOTED.sub('"…"', message)
    return f"libpq cannot parse it: {scrub(unquoted, extra=dsn_secret_forms(dsn))}"


@lru_cache(maxsize=64)
def dsn_problem(dsn: str) -> str | None:
    """What is wrong with a libpq DSN (URI or key=value), in words that never quote its password;
    None when libpq can use it."""
    if "://" in dsn:
        return _uri_problem(dsn) or _libpq_problem(dsn)
    return _libpq_problem(dsn)


def check_dsn(dsn: str, variable: str = "dsn") -> str:
    """The DSN, stripped; raises InvalidDsnError naming `variable` and the problem. Its password is
    remembered, so every text scrubbed in this process hides it."""
    dsn = dsn.strip()
    remember_dsn(dsn)
    problem = dsn_problem(dsn)
    if problem:
        raise InvalidDsnError(f"{variable} is not a valid PostgreSQL DSN: {problem} (the password is not shown)")
    return dsn


def database_conninfo(dsn: str, variable: str, embedded_database: str) -> str:
    """How a database endpoint becomes a libpq URI, for the resource and for endpoints.Database alike:
    `dsn` checked (errors name `variable`, never the password) or, when it is empty, the embedded
    default's `embedded_database`, its server started or joined."""
    if dsn:
        return check_dsn(dsn, variable)
    if not embedded_database:
        raise ValueError("PostgresResource needs a dsn, or an embedded_database for the embedded default")
    from reveries_pipeline.embedded import embedded_dsn

    return embedded_dsn(embedded_database)


def redact_dsn(dsn: str) -> str:
    """A description of the DSN that is safe to log: user, host, port and database, never the password."""
    return scrub(_describe_dsn(dsn), extra=dsn_secret_forms(dsn))


def _describe_dsn(dsn: str) -> str:
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
    dsn_variable: str = Field(
        default="dsn", description="The environment variable the dsn comes from, named in its errors."
    )
    embedded_database: str = Field(default="", description="Database on the embedded server when dsn is empty.")
    schema_name: str = Field(default="", description="search_path for every session (branch deployments).")
    pool_max_size: int = Field(default=4, ge=1, le=100, description="Connections kept per process (1 to 100).")
    connect_timeout_s: int = Field(
        default=10, ge=1, le=600, description="Seconds before a connection attempt fails (1 to 600)."
    )

    _pools: ClassVar[dict[str, ConnectionPool]] = {}
    _pools_lock: ClassVar[threading.Lock] = threading.Lock()

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # A malformed DSN fails here, before any step runs, with a message that hides the password.
        if self.dsn:
            check_dsn(self.dsn, self.dsn_variable)

    @property
    def conninfo(self) -> str:
        """The DSN to connect with; starts (or joins) the embedded server when none is configured."""
        return database_conninfo(self.dsn, self.dsn_variable, self.embedded_database)

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
                self._connect(conninfo).close()
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

    def _connect(self, conninfo: str) -> psycopg.Connection:
        """A new connection; libpq's error comes back scrubbed, with nothing chained that still holds it."""
        try:
            return psycopg.connect(conninfo, connect_timeout=self.connect_timeout_s)
        except psycopg.OperationalError as exc:
            message = scrub(str(exc).strip(), extra=dsn_secret_forms(conninfo))  # libpq names the host and port
        raise DatabaseConnectionError(message)  # outside the except block: no __context__ either

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
        with self._connect(self.conninfo) as conn:
            self._configure(conn)
            conn.autocommit = autocommit
            yield conn
