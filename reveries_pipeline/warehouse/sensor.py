"""`warehouse_job` and `processed_bucket_sensor`, which launches it when new processed batches land."""

from dagster import AssetSelection, DefaultSensorStatus, SensorEvaluationContext, define_asset_job, sensor

from reveries_pipeline.asset_keys import WAREHOUSE_GROUP
from reveries_pipeline.concurrency import DERIVED_WRITER_TAG
from reveries_pipeline.lake.batch_sensor import evaluate_new_batches
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline.warehouse.schema import WAREHOUSE_TABLES

warehouse_job = define_asset_job(
    "warehouse_job",
    tags=dict(DERIVED_WRITER_TAG),  # one derived-state writer at a time (dagster.yaml)
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
    return evaluate_new_batches(context, processed_lake, WAREHOUSE_TABLES, "reveries/new_processed_batches")
