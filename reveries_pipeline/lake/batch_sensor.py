"""The bucket sensors: launch a run when new batch objects land (both stages' sensors are built here).

The cursor is {table: last key seen}; each tick lists every table prefix with StartAfter, so a tick
costs O(new keys). It is only a trigger: the launched job works from its own committed checkpoint,
so a lost tick or a manual run catches up on everything pending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from reveries_pipeline.lake.listing import parse_cursor, run_key_for, scan_new_batches
from reveries_pipeline.resources.object_store import ObjectStore


def evaluate_new_batches(
    context: SensorEvaluationContext, store: ObjectStore, tables: Sequence[str], count_tag: str
) -> SensorResult | SkipReason:
    found, cursor = scan_new_batches(store, tables, parse_cursor(context.cursor))
    if not found:
        return SkipReason("no new batches")
    total = sum(len(keys) for keys in found.values())
    return SensorResult(
        run_requests=[RunRequest(run_key=run_key_for(found), tags={count_tag: str(total)})],
        cursor=json.dumps(cursor, sort_keys=True),
    )


def bucket_sensor(
    *, name: str, job, bucket_resource_key: str, tables: Sequence[str], count_tag: str, description: str
) -> SensorDefinition:
    """A sensor that launches `job` when new batch objects of `tables` land in the bucket resource
    `bucket_resource_key`; RUNNING by default, a tick every 30 s."""

    @sensor(
        name=name,
        job=job,
        minimum_interval_seconds=30,
        default_status=DefaultSensorStatus.RUNNING,
        description=description,
        required_resource_keys={bucket_resource_key},
    )
    def _bucket_sensor(context: SensorEvaluationContext):
        return evaluate_new_batches(context, getattr(context.resources, bucket_resource_key), tables, count_tag)

    return _bucket_sensor
