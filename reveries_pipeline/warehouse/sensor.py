"""`warehouse_job` and `processed_bucket_sensor`, which launches it when new processed batches land."""

from dagster import SensorEvaluationContext, sensor

from reveries_pipeline.asset_keys import WAREHOUSE_GROUP
from reveries_pipeline.concurrency import derived_state_job
from reveries_pipeline.lake.batch_sensor import BUCKET_SENSOR_SETTINGS, evaluate_new_batches
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline.warehouse.schema import WAREHOUSE_TABLES

warehouse_job = derived_state_job(
    "warehouse_job", WAREHOUSE_GROUP, "Load every processed batch not yet in the warehouse's load ledger."
)


@sensor(
    job=warehouse_job, description="Watches the processed bucket for new star-schema batches.", **BUCKET_SENSOR_SETTINGS
)
def processed_bucket_sensor(context: SensorEvaluationContext, processed_lake: ObjectStore):
    return evaluate_new_batches(context, processed_lake, WAREHOUSE_TABLES, "reveries/new_processed_batches")
