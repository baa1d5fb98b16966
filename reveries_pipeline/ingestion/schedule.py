"""The ingestion stage's schedules (their jobs live in jobs.py): `ingestion_schedule`, the 10-minute
backstop behind source_change_sensor, and `deleted_rows_schedule`, the hourly delete reconciliation.

The sensor starts a run seconds after totesys changes; ingestion_schedule catches what it could miss (the
sensor switched off, a failed run, counters reset). It launches nothing while an ingestion is queued
or running, when one succeeded within the last interval, or when the source is unchanged since the
last successful one, so an idle daemon starts no runs.
"""

from datetime import timedelta

import psycopg
from dagster import DefaultScheduleStatus, RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from reveries_pipeline.ingestion.assets import reconcile_run_config
from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.source_sensor import (
    FINGERPRINT_TAG,
    RECONCILE_TAG,
    backstop_skip_reason,
    fingerprint_tags,
    last_reconciliation,
    probe_source,
    tables_with_deletes,
)
from reveries_pipeline.jobs import etl_job, ingestion_job
from reveries_pipeline.resources import PostgresResource

BACKSTOP_INTERVAL = timedelta(minutes=10)


@schedule(
    name="ingestion_schedule",
    job=ingestion_job,
    cron_schedule="*/10 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Backstop: ingest every 10 minutes unless an ingestion ran meanwhile or totesys is unchanged.",
)
def ingestion_schedule(
    context: ScheduleEvaluationContext, totesys: PostgresResource, totesys_capture: TotesysCapture
) -> RunRequest | SkipReason:
    now = context.scheduled_execution_time
    reason, probe = backstop_skip_reason(context.instance, totesys, totesys_capture, now, BACKSTOP_INTERVAL)
    if reason is not None:
        return SkipReason(reason)
    return RunRequest(tags=fingerprint_tags(probe) if probe is not None else {})


# Poll mode never reads a deleted row. source_change_sensor reconciles the tables whose delete counter
# moves, in the run it starts; this hourly backstop reconciles every table when the counters moved
# since the last reconciling run (or can't tell: none yet, a reset), and otherwise launches nothing.


@schedule(
    name="deleted_rows_schedule",
    job_name=etl_job.name,
    cron_schedule="17 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Poll mode, hourly backstop: etl_job reading every table's primary keys too, so rows deleted "
    "at the source are marked deleted downstream, unless no delete was counted since the last "
    "reconciliation. Logical mode captures deletes as they happen: skipped.",
)
def deleted_rows_schedule(
    context: ScheduleEvaluationContext, totesys: PostgresResource, totesys_capture: TotesysCapture
) -> RunRequest | SkipReason:
    if totesys_capture.is_logical:
        return SkipReason("logical mode captures deletes as they happen")
    last = last_reconciliation(context.instance)
    reference = last.dagster_run.tags.get(FINGERPRINT_TAG) if last is not None else None
    try:
        probe = probe_source(totesys, totesys_capture, reference)
    except (psycopg.Error, OSError):
        probe = None  # launch anyway: the run fails where an operator sees it
    if probe is not None and tables_with_deletes(reference, probe.fingerprint) == ():
        return SkipReason("no row deleted at the source since the last reconciliation")
    tags = {RECONCILE_TAG: "all", **(fingerprint_tags(probe) if probe is not None else {})}
    return RunRequest(run_config=reconcile_run_config(), tags=tags)
