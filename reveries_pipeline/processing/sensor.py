"""`processing_job` and `ingestion_bucket_sensor`, which launches it when new raw batches land."""

from reveries_pipeline.asset_keys import PROCESSED_GROUP
from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.concurrency import derived_state_job
from reveries_pipeline.lake.batch_sensor import bucket_sensor

processing_job = derived_state_job(
    "processing_job",
    PROCESSED_GROUP,
    "Remodel every pending raw batch into the star-schema tables in the processed bucket.",
)

ingestion_bucket_sensor = bucket_sensor(
    name="ingestion_bucket_sensor",
    job=processing_job,
    bucket_resource_key="ingestion_lake",
    tables=SOURCE_TABLE_NAMES,
    count_tag="reveries/new_raw_batches",
    description="Watches the ingestion bucket for new raw batches.",
)
