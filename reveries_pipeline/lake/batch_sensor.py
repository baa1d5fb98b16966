"""The evaluation both bucket sensors share: launch a run when new batch objects land.

The cursor is {table: last key seen}; each tick lists every table prefix with StartAfter, so a tick
costs O(new keys). It is only a trigger: the launched job works from its own committed checkpoint,
so a lost tick or a manual run catches up on everything pending.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from dagster import DefaultSensorStatus, RunRequest, SensorEvaluationContext, SensorResult, SkipReason

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


# Both bucket sensors tick every 30 s and are on by default.
BUCKET_SENSOR_SETTINGS = {"minimum_interval_seconds": 30, "default_status": DefaultSensorStatus.RUNNING}
