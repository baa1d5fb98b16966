"""The ingestion stage's definitions: the raw assets, `ingestion_job` and its 10-minute schedule."""

from dagster import Definitions, with_source_code_references

from reveries_pipeline.ingestion.assets import raw_totesys_tables
from reveries_pipeline.ingestion.schedule import ingestion_job, ingestion_schedule

defs = Definitions(
    assets=with_source_code_references([raw_totesys_tables]), jobs=[ingestion_job], schedules=[ingestion_schedule]
)
