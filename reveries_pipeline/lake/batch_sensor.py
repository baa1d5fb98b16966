"""The evaluation both bucket sensors share: launch a run when new batch objects land.

The cursor is {table: last key seen}; each tick lists every table prefix with StartAfter, so a tick
costs O(new keys). It is only a trigger: the launched job works from its own committed checkpoint,
so a lost tick or a manual run catches up on everything pending.

Batches etl_job wrote are consumed by the same run, so a run for them would find nothing to do.
Two rules keep those runs away and still launch for batches anyone else wrote: while a run that
consumes the bucket is queued or running, the sensor waits (cursor kept); afterwards it launches
only for keys the stage's own checkpoint (`consumed`) has not taken in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence

from dagster import (
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
)

from reveries_pipeline.lake.listing import parse_cursor, run_key_for, scan_new_batches
from reveries_pipeline.resources.object_store import ObjectStore

IN_FLIGHT = (
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
)
# {table: new keys} -> the keys among them the consuming stage has already taken in
ConsumedKeys = Callable[[dict[str, list[str]]], set[str]]


def run_in_flight(instance: DagsterInstance, job_names: Collection[str]) -> DagsterRun | None:
    """A queued or running run of one of `job_names`, if any (one query over unfinished runs)."""
    for record in instance.get_run_records(RunsFilter(statuses=list(IN_FLIGHT)), limit=100):
        if record.dagster_run.job_name in job_names:
            return record.dagster_run
    return None


def evaluate_new_batches(
    context: SensorEvaluationContext,
    store: ObjectStore,
    tables: Sequence[str],
    count_tag: str,
    consumers: Collection[str] = (),
    consumed: ConsumedKeys | None = None,
) -> SensorResult | SkipReason:
    """A run for the new batches in `store` not yet consumed; none while a run of `consumers` is in
    flight (the cursor stays, so its batches are judged once it has finished)."""
    if consumers and (run := run_in_flight(context.instance, consumers)) is not None:
        return SkipReason(f"waiting for {run.job_name} run {run.run_id[:8]} ({run.status.value})")
    found, cursor = scan_new_batches(store, tables, parse_cursor(context.cursor))
    if not found:
        return SkipReason("no new batches")
    if consumed is not None:
        taken = consumed(found)
        found = {table: pending for table, keys in found.items() if (pending := [k for k in keys if k not in taken])}
    advanced = json.dumps(cursor, sort_keys=True)
    if not found:
        return SensorResult(skip_reason="every new batch is already consumed", cursor=advanced)
    total = sum(len(keys) for keys in found.values())
    return SensorResult(
        run_requests=[RunRequest(run_key=run_key_for(found), tags={count_tag: str(total)})], cursor=advanced
    )


# Both bucket sensors tick every 30 s and are on by default.
BUCKET_SENSOR_SETTINGS = {"minimum_interval_seconds": 30, "default_status": DefaultSensorStatus.RUNNING}
