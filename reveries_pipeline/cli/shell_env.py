"""`reveries env`: shell exports that give `dg` and `dagster` commands the instance `reveries dev` uses."""

from __future__ import annotations

import os
import shlex

import click

from reveries_pipeline.config import DAGSTER_PG_URL, REVERIES_HOME, env_value, reveries_home
from reveries_pipeline.endpoints import resolve_endpoints


@click.command(name="env")
def shell_env() -> None:
    """Print the exports that make `dg` and `dagster` commands use `reveries dev`'s Dagster instance.

    \b
        eval "$(.venv/bin/reveries env)"
        .venv/bin/dg launch --assets 'raw/sales_order'   # the run shows in reveries dev's UI

    Writes .reveries/dagster_home/dagster.yaml (the project's dagster.yaml + PostgreSQL storage), as
    `reveries dev` does. On the embedded default the instance lives in its server: keep `reveries dev`
    or `reveries embedded` running. A DAGSTER_PG_URL you set is never printed (it may hold a password):
    it is already in your environment."""
    from reveries_pipeline.dagster_instance import use_project_instance

    user_pg_url = env_value(DAGSTER_PG_URL)
    use_project_instance(resolve_endpoints())
    for line in instance_exports(include_pg_url=user_pg_url is None):
        click.echo(line)


def instance_exports(include_pg_url: bool) -> list[str]:
    """`export` lines for the embedded default's folder, DAGSTER_HOME and (when it is ours, the embedded
    server's password-less socket URI) DAGSTER_PG_URL, as this process holds them."""
    values = {REVERIES_HOME: str(reveries_home()), "DAGSTER_HOME": os.environ["DAGSTER_HOME"]}
    if include_pg_url and os.environ.get(DAGSTER_PG_URL):
        values[DAGSTER_PG_URL] = os.environ[DAGSTER_PG_URL]
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
