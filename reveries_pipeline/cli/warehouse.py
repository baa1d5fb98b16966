"""`reveries warehouse`: the SQL that gives the dashboard its own read-only role on the warehouse."""

from __future__ import annotations

import click

from reveries_pipeline.cli.output import console
from reveries_pipeline.dashboard.connection import CREATE_ROLE_COMMAND, DASHBOARD_ROLE, STATEMENT_TIMEOUT
from reveries_pipeline.endpoints import resolve_endpoints


@click.group()
def warehouse() -> None:
    """The PostgreSQL warehouse: the SQL that gives the dashboard its own read-only role."""


@warehouse.command("dashboard-role")
@click.option("--role", default=DASHBOARD_ROLE, show_default=True, help="The dashboard's login role.")
@click.option(
    "--statement-timeout",
    default=STATEMENT_TIMEOUT,
    show_default=True,
    help="Longest a dashboard query may run before PostgreSQL cancels it (a PostgreSQL duration).",
)
@click.option("--schema", default="public", show_default=True, help="The schema the warehouse is loaded into.")
@click.option(
    "--owner",
    help="The role that creates the warehouse's tables, so those it creates later are readable too "
    "[default: the user in WAREHOUSE_DSN, else whoever runs the SQL].",
)
@click.option("--apply", is_flag=True, help="Run it on the embedded default's warehouse instead.")
def dashboard_role(role: str, statement_timeout: str, schema: str, owner: str | None, apply: bool) -> None:
    """Print the SQL a DBA runs once on the warehouse to give the dashboard a read-only login role:
    read-only transactions, a statement timeout, SELECT on the schema's tables and views (those created
    later too), nothing else. Pipe it to psql as the tables' owner or a superuser, give the role a
    password, and set DASHBOARD_DSN to log in as it. Running it again changes nothing. With --apply,
    run it on the embedded default (which `reveries dashboard` also does by itself)."""
    from psycopg.conninfo import conninfo_to_dict

    from reveries_pipeline.embedded import embedded_dsn, ensure_read_only_role, read_only_role_sql

    loader = resolve_endpoints().warehouse
    owner = owner or (conninfo_to_dict(loader.dsn).get("user") if loader.dsn else None)
    try:
        statements = read_only_role_sql(role, statement_timeout, schema, owner)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--role") from None
    if apply:
        if loader.configured:
            raise click.UsageError(
                f"--apply runs on the embedded default only; for WAREHOUSE_DSN run: {CREATE_ROLE_COMMAND}"
            )
        ensure_read_only_role(embedded_dsn(loader.embedded_database), loader.embedded_database, role, statement_timeout)
        console.print(f"read-only role {role} ready on the embedded warehouse")
        return
    click.echo("-- The dashboard's read-only role. Run it once on the warehouse, as the owner of its tables:")
    click.echo(f"--   {CREATE_ROLE_COMMAND}")
    for statement in statements:
        click.echo(f"{statement.as_string()};")
    click.echo(f"-- Then give it a password, and set DASHBOARD_DSN to log in as {role}:")
    click.echo(f"--   psql \"$WAREHOUSE_DSN\" -c '\\password {role}'")
