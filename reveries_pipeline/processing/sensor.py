"""`processing_job` and `ingestion_bucket_sensor`, which launches it when new raw batches land."""

from dagster import SensorEvaluationContext, sensor

from reveries_pipeline.asset_keys import PROCESSED_GROUP
from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.concurrency import derived_state_job
from reveries_pipeline.lake.batch_sensor import BUCKET_SENSOR_SETTINGS, evaluate_new_batches
from reveries_pipeline.resources import ObjectStore

processing_job = derived_state_job(
    "processing_job",
    PROCESSED_GROUP,
    "Remodel every pending raw batch into the star-schema tables in the processed bucket.",
)


@sensor(job=processing_job, description="Watches the ingestion bucket for new raw batches.", **BUCKET_SENSOR_SETTINGS)
def ingestion_bucket_sensor(context: SensorEvaluationContext, ingestion_lake: ObjectStore):
    return evaluate_new_batches(context, ingestion_lake, SOURCE_TABLE_NAMES, "reveries/new_raw_batches")
