"""The Reveries code location: totesys -> raw (ingestion bucket) -> processed (parquet) -> warehouse.

Each stage exposes its own `Definitions` (assets, checks, jobs, sensors, schedules); this module
merges them with the cross-stage jobs and the resources of the current deployment (environment.py).
"""

from dagster import Definitions

from reveries_pipeline.environment import build_resources
from reveries_pipeline.ingestion.definitions import defs as ingestion_defs
from reveries_pipeline.jobs import etl_job, rebuild_job
from reveries_pipeline.operations.definitions import defs as operations_defs
from reveries_pipeline.processing.definitions import defs as processing_defs
from reveries_pipeline.warehouse.definitions import defs as warehouse_defs

defs = Definitions.merge(
    ingestion_defs,
    processing_defs,
    warehouse_defs,
    operations_defs,
    Definitions(jobs=[etl_job, rebuild_job], resources=build_resources()),
)
