"""`reveries dev`, `dashboard` and `embedded`: the long-running servers, in the foreground."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click

from reveries_pipeline.cli.output import console
from reveries_pipeline.endpoints import resolve_endpoints

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Start the embedded default and `dagster dev` (UI on http://localhost:3000), schedule and sensors on.

    Extra arguments go to `dagster dev`."""
    from reveries_pipeline.dagster_instance import use_project_instance
    from reveries_pipeline.embedded import start_embedded_default

    use_project_instance(resolve_endpoints())
    start_embedded_default()  # keep the server alive for the life of this process
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), *dagster_args]
    console.print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}; starting: dagster dev")
    sys.exit(subprocess.call(cmd))  # noqa: S603 - fixed argv, no shell


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
