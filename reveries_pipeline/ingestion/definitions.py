"""The ingestion stage's definitions: the raw assets, `ingestion_job` (from jobs.py), its 10-minute
backstop schedule, the hourly delete reconciliation (poll mode) and `source_change_sensor`, which
starts etl_job when totesys changes."""

from dagster import Definitions

from reveries_pipeline.code_links import with_code_links
from reveries_pipeline.ingestion.assets import raw_totesys_tables
from reveries_pipeline.ingestion.schedule import deleted_rows_schedule, ingestion_schedule
from reveries_pipeline.ingestion.source_sensor import source_change_sensor
from reveries_pipeline.jobs import ingestion_job

defs = Definitions(
    assets=with_code_links([raw_totesys_tables]),
    jobs=[ingestion_job],
    schedules=[ingestion_schedule, deleted_rows_schedule],
    sensors=[source_change_sensor],
)
