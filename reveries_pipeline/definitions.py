"""The Reveries code location: totesys -> raw (ingestion bucket) -> processed (parquet) -> warehouse,
and the ECB's FX rates (reference) -> warehouse.

Each stage exposes its own `Definitions` (assets, checks, sensors, schedules, and the jobs these
launch); every job is defined in jobs.py. This module merges them with the cross-stage jobs (etl_job,
rebuild_job) and the resources of the current deployment (environment.py).
"""

from dagster import Definitions

from reveries_pipeline.environment import build_resources
from reveries_pipeline.ingestion import definitions as ingestion
from reveries_pipeline.jobs import etl_job, rebuild_job
from reveries_pipeline.operations import definitions as operations
from reveries_pipeline.processing import definitions as processing
from reveries_pipeline.reference import definitions as reference
from reveries_pipeline.warehouse import definitions as warehouse

# Modules, not their `defs`: Dagster allows one Definitions object at module scope.
defs = Definitions.merge(
    ingestion.defs,
    processing.defs,
    reference.defs,
    warehouse.defs,
    operations.defs,
    Definitions(jobs=[etl_job, rebuild_job], resources=build_resources()),
)
