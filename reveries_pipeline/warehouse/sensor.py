"""`processed_batches_sensor`: launches warehouse_job (jobs.py) when new processed batches land in the
processed bucket.

Processed batches already in the warehouse's load ledger (etl_job loads what it processed in the
same run) launch nothing: the sensor looks the new keys up in the ledger, in one query.
"""

import psycopg
from dagster import SensorEvaluationContext, sensor

from reveries_pipeline.jobs import etl_job, rebuild_job, warehouse_job
from reveries_pipeline.lake.batch_sensor import BUCKET_SENSOR_SETTINGS, evaluate_new_batches
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.warehouse.ledger import applied_keys
from reveries_pipeline.warehouse.schema import WAREHOUSE_TABLES

# The runs that load processed batches: a batch that lands while one is queued or running is judged
# against the ledger it leaves.
PROCESSED_CONSUMERS = (etl_job.name, warehouse_job.name, rebuild_job.name)


def loaded_keys(warehouse: PostgresResource, found: dict[str, list[str]]) -> set[str]:
    """Those of the new processed keys in the load ledger. A warehouse without a ledger yet, or one
    that can't be reached, counts as none loaded: the launched run then creates it, or fails visibly."""
    try:
        with warehouse.connection(read_only=True) as conn:
            return applied_keys(conn, [key for keys in found.values() for key in keys])
    except (psycopg.Error, OSError):
        return set()


@sensor(
    job=warehouse_job, description="Watches the processed bucket for new star-schema batches.", **BUCKET_SENSOR_SETTINGS
)
def processed_batches_sensor(
    context: SensorEvaluationContext, processed_lake: ObjectStore, warehouse: PostgresResource
):
    return evaluate_new_batches(
        context,
        processed_lake,
        WAREHOUSE_TABLES,
        "reveries/new_processed_batches",
        consumers=PROCESSED_CONSUMERS,
        consumed=lambda found: loaded_keys(warehouse, found),
    )
