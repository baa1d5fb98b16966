"""`reveries run` and `reveries rebuild`: run the pipeline's jobs once, in this process."""

from __future__ import annotations

import sys

import click

from reveries_pipeline.cli import job_runs
from reveries_pipeline.cli.confirm import confirm_or_refuse
from reveries_pipeline.cli.output import print_warehouse_summary
from reveries_pipeline.dagster_instance import use_project_instance
from reveries_pipeline.endpoints import resolve_endpoints

# After these the warehouse has changed: `reveries run` prints its summary.
LOADS_THE_WAREHOUSE = ("etl_job", "warehouse_job")


@click.command()
@click.option(
    "--job",
    "job_name",
    default="etl_job",
    show_default=True,
    type=job_runs.JobChoice(),
    help="Which job to run.",
)
@click.option(
    "--persist/--no-persist",
    default=False,
    show_default=True,
    help="Record the run in the project's Dagster instance (.reveries/dagster_home, or DAGSTER_HOME) so the UI "
    "of `reveries dev` shows it.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    default="INFO",
    show_default=True,
    help="DEBUG adds Dagster's own events (step starts and ends, outputs, check results).",
)
def run(job_name: str, persist: bool, log_level: str) -> None:
    """Run a job once, in this process; after etl_job or warehouse_job, print the warehouse summary."""
    endpoints = resolve_endpoints()
    if persist:
        use_project_instance(endpoints)
    ok = job_runs.execute_job(job_name, log_level)
    if ok and job_name in LOADS_THE_WAREHOUSE:
        print_warehouse_summary(endpoints.warehouse.session_conninfo())
    sys.exit(0 if ok else 1)


@click.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed when there is no terminal).")
def rebuild(yes: bool) -> None:
    """Replay from the lake: rebuild the processed bucket and the warehouse from every raw batch, in
    order, without touching the source.

    Every raw batch is read before anything is deleted, and the warehouse is emptied and reloaded in
    one transaction: a failure leaves it as it was. Asks first; with no terminal it refuses unless
    --yes."""
    what = "replace the processed bucket and reload the warehouse from the raw lake"
    confirm_or_refuse(f"This will {what} (readers wait for the commit). Continue?", f"refusing to {what}", yes)
    sys.exit(0 if job_runs.execute_job("rebuild_job") else 1)
