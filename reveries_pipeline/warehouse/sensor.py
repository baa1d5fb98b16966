"""`processed_bucket_sensor`: launches warehouse_job when new processed batches land.

Same rules as the ingestion sensor: a {table: last key} cursor, StartAfter listings, a run_key per
batch set; warehouse_job loads everything not yet in its ledger, so missed ticks catch up.
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

from reveries_pipeline.resources import ObjectStore
from reveries_pipeline.resources.new_objects import parse_cursor, run_key_for, scan_new_batches
from reveries_pipeline.warehouse.assets import WAREHOUSE_GROUP
from reveries_pipeline.warehouse.schema import WAREHOUSE_TABLES

warehouse_job = define_asset_job(
    "warehouse_job",
    tags={"reveries/derived_state": "writer"},  # one derived-state writer at a time (dagster.yaml)
    selection=AssetSelection.groups(WAREHOUSE_GROUP),
    description="Load every processed batch not yet in the warehouse's load ledger.",
)


@sensor(
    job=warehouse_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Watches the processed bucket for new star-schema batches.",
)
def processed_bucket_sensor(context: SensorEvaluationContext, processed_lake: ObjectStore):
    found, cursor = scan_new_batches(processed_lake, WAREHOUSE_TABLES, parse_cursor(context.cursor))
    if not found:
        return SkipReason("no new processed batches")
    total = sum(len(v) for v in found.values())
    return SensorResult(
        run_requests=[RunRequest(run_key=run_key_for(found), tags={"reveries/new_processed_batches": str(total)})],
        cursor=json.dumps(cursor, sort_keys=True),
    )
