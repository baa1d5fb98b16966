"""`warehouse_job` and `processed_bucket_sensor`, which launches it when new processed batches land."""

from reveries_pipeline.asset_keys import WAREHOUSE_GROUP
from reveries_pipeline.concurrency import derived_state_job
from reveries_pipeline.lake.batch_sensor import bucket_sensor
from reveries_pipeline.warehouse.schema import WAREHOUSE_TABLES

warehouse_job = derived_state_job(
    "warehouse_job", WAREHOUSE_GROUP, "Load every processed batch not yet in the warehouse's load ledger."
)

processed_bucket_sensor = bucket_sensor(
    name="processed_bucket_sensor",
    job=warehouse_job,
    bucket_resource_key="processed_lake",
    tables=WAREHOUSE_TABLES,
    count_tag="reveries/new_processed_batches",
    description="Watches the processed bucket for new star-schema batches.",
)
