"""The ingestion job and its 10-minute schedule."""

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

from reveries_pipeline.asset_keys import RAW_GROUP

ingestion_job = define_asset_job(
    "ingestion_job",
    selection=AssetSelection.groups(RAW_GROUP),
    description="Capture new and changed rows of every totesys table into the ingestion bucket.",
)

ingestion_schedule = ScheduleDefinition(
    name="ingestion_schedule",
    job=ingestion_job,
    cron_schedule="*/10 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Poll totesys every 10 minutes.",
)
