"""A run's step times, its start-to-end time and its events by kind, read from the Dagster instance that
recorded the run (its event log), never from the run's console output."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, RunsFilter

STEP_EVENTS = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
RUN_START = DagsterEventType.RUN_START
RUN_ENDS = {DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE}
LOG_LINE = "log line"  # an event record without a Dagster event: a context.log message


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


def run_profile(instance: DagsterInstance, run_id: str) -> dict:
    """What the benchmarks report of one run: step times, the run's start-to-end seconds (None when it
    never ended), the epoch times of its first and last events and of RUN_START and RUN_SUCCESS (or
    RUN_FAILURE), and its events counted by kind."""
    entries = instance.all_logs(run_id)
    kinds = Counter(e.dagster_event_type.value if e.dagster_event_type else LOG_LINE for e in entries)
    start = next((e.timestamp for e in entries if e.dagster_event_type == RUN_START), None)
    end = next((e.timestamp for e in entries if e.dagster_event_type in RUN_ENDS), None)
    return {
        "steps": step_seconds(instance, run_id),
        "run_s": end - start if start is not None and end is not None else None,
        "run_start": start,
        "run_end": end,
        "first_event": entries[0].timestamp if entries else None,
        "last_event": entries[-1].timestamp if entries else None,
        "events": dict(kinds.most_common()),
    }


def newest_run_records(dagster_home: Path, job: str, read):
    """read(instance, run_id) for `job`'s newest run in the instance kept in `dagster_home` (None when
    it has none)."""
    with DagsterInstance.local_temp(tempdir=str(dagster_home)) as instance:
        records = instance.get_run_records(filters=RunsFilter(job_name=job), limit=1)
        return read(instance, records[0].dagster_run.run_id) if records else None


def newest_run_step_seconds(dagster_home: Path, job: str) -> dict[str, float]:
    """Step times of `job`'s newest run in the instance kept in `dagster_home` ({} when it has none)."""
    return newest_run_records(dagster_home, job, step_seconds) or {}


def newest_run_profile(dagster_home: Path, job: str) -> dict:
    """run_profile of `job`'s newest run in the instance kept in `dagster_home` ({} when it has none)."""
    return newest_run_records(dagster_home, job, run_profile) or {}
