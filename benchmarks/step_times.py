"""A run's step times, read from the Dagster instance that recorded the run (its event log), never
from the run's console output."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, RunsFilter

STEP_EVENTS = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}


def step_seconds(instance: DagsterInstance, run_id: str) -> dict[str, float]:
    """Seconds from each step's STEP_START event to its STEP_SUCCESS (the last attempt's start, after a
    retry); a step that did not succeed has no time."""
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for entry in instance.all_logs(run_id, of_type=STEP_EVENTS):
        if entry.dagster_event_type == DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        elif entry.step_key in started:
            seconds[entry.step_key] = entry.timestamp - started[entry.step_key]
    return seconds


def newest_run_step_seconds(dagster_home: Path, job: str) -> dict[str, float]:
    """Step times of `job`'s newest run in the instance kept in `dagster_home` ({} when it has none)."""
    with DagsterInstance.local_temp(tempdir=str(dagster_home)) as instance:
        records = instance.get_run_records(filters=RunsFilter(job_name=job), limit=1)
        return step_seconds(instance, records[0].dagster_run.run_id) if records else {}
