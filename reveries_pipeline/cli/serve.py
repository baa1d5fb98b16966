"""`reveries dev`, `dashboard` and `embedded`: the long-running servers, in the foreground."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click

from reveries_pipeline.cli.output import console
from reveries_pipeline.config import REVERIES_HOME, reveries_home
from reveries_pipeline.endpoints import resolve_endpoints

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("dg_args", nargs=-1, type=click.UNPROCESSED)
def dev(dg_args: tuple[str, ...]) -> None:
    """Start the embedded default and `dg dev` (UI on http://localhost:3000), schedule and sensors on.

    Extra arguments go to `dg dev`."""
    from reveries_pipeline.dagster_instance import use_project_instance
    from reveries_pipeline.embedded import start_embedded_default

    use_project_instance(resolve_endpoints())
    start_embedded_default()  # keep the server alive for the life of this process
    home = os.environ["DAGSTER_HOME"]
    # The servers run in DAGSTER_HOME (below): the embedded default must stay this folder's .reveries.
    os.environ[REVERIES_HOME] = str(reveries_home())
    console.print(f"DAGSTER_HOME={home}; starting: dg dev", soft_wrap=True)  # a long path stays one line
    sys.exit(run_until_it_exits(dg_dev_command(dg_args), cwd=home))


def run_until_it_exits(command: list[str], cwd: str) -> int:
    """Run `command` and return its exit code. Ctrl-C reaches the whole process group: the child stops
    its servers itself, and this process waits for it, so the embedded server it holds outlives them."""
    child = subprocess.Popen(command, cwd=cwd)  # noqa: S603 - fixed argv, no shell
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def dg_dev_command(dg_args: tuple[str, ...]) -> list[str]:
    """`dg dev` on the project's workspace.yaml, with this interpreter's dg.

    It runs in DAGSTER_HOME, not in the project folder: there Dagster would see the project's own
    dagster.yaml beside a DAGSTER_HOME pointing elsewhere and warn that it is ignored (that home's
    dagster.yaml already holds the same settings plus PostgreSQL storage). Given a workspace file,
    `dg dev` starts the servers from where it is run instead of changing into the project."""
    workspace = PROJECT_ROOT / "workspace.yaml"
    return [sys.executable, "-m", "dagster_dg_cli.cli", "dev", "--workspace", str(workspace), *dg_args]


@click.command()
@click.option("--port", type=int, default=8501, show_default=True, help="Port to serve on.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. The dashboard has no login: to share it, listen on 0.0.0.0 only behind "
    "a proxy that authenticates (README: Dashboard).",
)
def dashboard(port: int, address: str) -> None:
    """Serve the live sales dashboard over the warehouse, on this machine only unless --address says
    otherwise. Visitors never see error details. It connects with its own read-only role:
    DASHBOARD_DSN, or on the embedded default a role created for it (reveries warehouse dashboard-role)."""
    from reveries_pipeline.dashboard.connection import DashboardRoleMissing, dashboard_dsn
    from reveries_pipeline.dashboard.server import serve

    endpoints = resolve_endpoints()
    try:
        dsn = dashboard_dsn(endpoints)
    except DashboardRoleMissing as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if endpoints.dashboard.configured:
        from reveries_pipeline.resources.postgres import check_dsn

        dsn = check_dsn(dsn, endpoints.dashboard.variable)
    sys.exit(serve(port=port, dashboard_dsn=dsn, address=address))


@click.command()
def embedded() -> None:
    """Start the embedded PostgreSQL server and print the DSNs of its databases (Ctrl-C stops it)."""
    from reveries_pipeline.embedded import start_embedded_default

    for name, dsn in start_embedded_default().items():
        click.echo(f"{name}: {dsn}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
