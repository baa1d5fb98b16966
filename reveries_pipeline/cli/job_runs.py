"""Running the code location's jobs in this process (`reveries run`, `demo`, `rebuild`), and which of
them `reveries run --job` offers."""

from __future__ import annotations

import os
import time
import warnings

import click

from reveries_pipeline.cli.output import console

# Jobs `reveries run` leaves to a command of their own: rebuild_job replaces the processed bucket and
# the warehouse, so `reveries rebuild` asks first.
OWN_COMMAND = {"rebuild_job": "reveries rebuild"}


def runnable_job_names() -> list[str]:
    """The code location's jobs, etl_job first: not Dagster's hidden asset job, not those with a command
    of their own, and not partitioned ones (fx_rates_job runs on a partition range: `reveries demo`
    gives it one)."""
    from dagster import BetaWarning

    with warnings.catch_warnings():  # Dagster's notes on its beta APIs would bury `reveries run --help`
        warnings.simplefilter("ignore", BetaWarning)
        from reveries_pipeline.definitions import defs

    names = [
        job.name
        for job in defs.resolve_all_job_defs()
        if not job.name.startswith("__") and job.name not in OWN_COMMAND and job.partitions_def is None
    ]
    return sorted(names, key=lambda name: (name != "etl_job", name))


class JobChoice(click.Choice):
    """A click.Choice of runnable_job_names(), read only when a value or the help needs it, so
    `reveries --help` and the light commands never load the code location."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(runnable_job_names())

    @choices.setter
    def choices(self, _value) -> None:  # click.Choice.__init__ assigns it
        pass


def execute_job(job_name: str, log_level: str = "INFO", tags: dict[str, str] | None = None) -> bool:
    """Run `job_name` to the end in this process, in the instance DAGSTER_HOME names (else a throwaway
    one), and print how it went. True if it succeeded."""
    from dagster import DagsterInstance

    from reveries_pipeline.definitions import defs

    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    job = defs.resolve_job_def(job_name)
    started = time.perf_counter()
    # The stages' own INFO lines (rows, object keys, durations) without Dagster's per-event DEBUG chatter.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False, tags=tags)
    status = "[green]succeeded[/]" if result.success else "[red]failed[/]"
    console.print(f"{job_name} {status} in {time.perf_counter() - started:.1f}s (run {result.run_id})")
    return result.success
