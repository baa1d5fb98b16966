"""`raw_batches_sensor`: launches processing_job (jobs.py) when new raw batches land in the ingestion
bucket.

Raw batches that a processing pass has already taken in (etl_job processes what it ingested in the
same run) launch nothing: the sensor compares them with the processing checkpoint.
"""

import json

from dagster import SensorEvaluationContext, sensor

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.jobs import etl_job, processing_job, rebuild_job
from reveries_pipeline.lake.batch_sensor import BUCKET_SENSOR_SETTINGS, evaluate_new_batches
from reveries_pipeline.processing.state import CHECKPOINT_KEY
from reveries_pipeline.resources import ObjectStore

# The runs that process raw batches: a batch that lands while one is queued or running is judged
# against the checkpoint it leaves.
RAW_CONSUMERS = (etl_job.name, processing_job.name, rebuild_job.name)


def processed_raw_keys(processed_lake: ObjectStore, found: dict[str, list[str]]) -> set[str]:
    """Those of the new raw keys at or before the processing checkpoint (keys sort in write order
    within a table, and the checkpoint is each table's last raw key processed)."""
    data = processed_lake.get_bytes(CHECKPOINT_KEY)
    try:
        checkpoint = json.loads(data)["last_raw_keys"] if data else {}
    except (ValueError, KeyError, TypeError):
        return set()  # unreadable: launch, and the processing run names the problem
    return {key for table, keys in found.items() if (last := checkpoint.get(table)) for key in keys if key <= last}


@sensor(job=processing_job, description="Watches the ingestion bucket for new raw batches.", **BUCKET_SENSOR_SETTINGS)
def raw_batches_sensor(context: SensorEvaluationContext, ingestion_lake: ObjectStore, processed_lake: ObjectStore):
    return evaluate_new_batches(
        context,
        ingestion_lake,
        SOURCE_TABLE_NAMES,
        "reveries/new_raw_batches",
        consumers=RAW_CONSUMERS,
        consumed=lambda found: processed_raw_keys(processed_lake, found),
    )
