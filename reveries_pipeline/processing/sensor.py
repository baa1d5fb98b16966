"""`ingestion_bucket_sensor`: launches processing_job when new raw batches land.

The cursor is {table: last key seen}; each tick lists with StartAfter, so it costs O(new keys).
It is only a trigger: processing_job works from its own committed checkpoint, so a lost tick or a
manual run catches up on everything pending.
"""

import json

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    sensor,
)

from reveries_pipeline.processing.assets import PROCESSED_GROUP
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline.resources.new_objects import parse_cursor, run_key_for, scan_new_batches
from reveries_pipeline.totesys.schema import TOTESYS_TABLES

processing_job = define_asset_job(
    "processing_job",
    tags={"reveries/derived_state": "writer"},  # one derived-state writer at a time (dagster.yaml)
    selection=AssetSelection.groups(PROCESSED_GROUP),
    description="Remodel every pending raw batch into the star-schema tables in the processed bucket.",
)


@sensor(
    job=processing_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Watches the ingestion bucket for new raw batches.",
)
def ingestion_bucket_sensor(context: SensorEvaluationContext, ingestion_lake: ObjectStore):
    found, cursor = scan_new_batches(ingestion_lake, TOTESYS_TABLES, parse_cursor(context.cursor))
    if not found:
        return SkipReason("no new raw batches")
    total = sum(len(v) for v in found.values())
    return SensorResult(
        run_requests=[RunRequest(run_key=run_key_for(found), tags={"reveries/new_raw_batches": str(total)})],
        cursor=json.dumps(cursor, sort_keys=True),
    )
