"""`reveries dashboard` as a user starts it: on this machine only unless told otherwise (it has no
login), error details kept from visitors, and Streamlit stopped with the command."""

from __future__ import annotations

import subprocess

import psutil
from psycopg.conninfo import make_conninfo

from reveries_pipeline.dashboard import server
from reveries_pipeline.dashboard.connection import DASHBOARD_ROLE
from reveries_pipeline_tests.shell import BIN
from reveries_pipeline_tests.support import free_port, subprocess_env


def _listening(tree: list[psutil.Process], port: int) -> set[str]:
    """The addresses the processes listen on at `port`."""
    return {
        conn.laddr.ip
        for process in tree
        for conn in process.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port
    }


def test_the_dashboard_listens_on_loopback_only_by_default_and_stops_with_its_command(warehouse_dsn):
    port = free_port()
    argv = [str(BIN / "reveries"), "dashboard", "--port", str(port)]
    dashboard_dsn = make_conninfo(warehouse_dsn, user=DASHBOARD_ROLE)
    env = subprocess_env(WAREHOUSE_DSN=warehouse_dsn, DASHBOARD_DSN=dashboard_dsn)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    tree = [psutil.Process(proc.pid)]
    try:
        server.wait_ready(port, proc, timeout=90)
        tree += tree[0].children(recursive=True)  # streamlit runs as a child of `reveries dashboard`
        assert _listening(tree, port) == {"127.0.0.1"}
        assert any("--client.showErrorDetails none" in " ".join(p.cmdline()) for p in tree[1:])
        # Streamlit gets the dashboard's own DSN, and not the loader's read-write one
        assert [(p.environ().get("DASHBOARD_DSN"), "WAREHOUSE_DSN" in p.environ()) for p in tree[1:]] == [
            (dashboard_dsn, False)
        ] * len(tree[1:])

        proc.terminate()  # as a service manager stops it
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert not alive, "streamlit kept serving after `reveries dashboard` was stopped"
    finally:
        for process in tree:
            if process.is_running():
                process.kill()
