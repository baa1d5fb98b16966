"""`processing_job` and `ingestion_bucket_sensor`, which launches it when new raw batches land."""

from dagster import AssetSelection, DefaultSensorStatus, SensorEvaluationContext, define_asset_job, sensor

from reveries_pipeline.asset_keys import PROCESSED_GROUP
from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.concurrency import DERIVED_WRITER_TAG
from reveries_pipeline.lake.batch_sensor import evaluate_new_batches
from reveries_pipeline.resources import ObjectStore

processing_job = define_asset_job(
    "processing_job",
    tags=dict(DERIVED_WRITER_TAG),  # one derived-state writer at a time (dagster.yaml)
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
    return evaluate_new_batches(context, ingestion_lake, SOURCE_TABLE_NAMES, "reveries/new_raw_batches")
