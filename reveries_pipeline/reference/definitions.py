"""The reference stage's definitions: `reference/fx_rates`, its job (fx_rates_job, from jobs.py), and
the daily schedule that asks for the newest day's rates."""

from datetime import timedelta

from dagster import (
    DefaultScheduleStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from reveries_pipeline.code_links import with_code_links
from reveries_pipeline.jobs import fx_rates_job
from reveries_pipeline.reference import ecb
from reveries_pipeline.reference.assets import FxRatesSource, fx_rates


@schedule(
    name="fx_rates_schedule",
    job=fx_rates_job,
    cron_schedule="30 0 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Each night, the rates of the day that just ended (the ECB publishes at ~16:00 CET; a late "
    "publication is retried by the run).",
)
def fx_rates_schedule(context: ScheduleEvaluationContext, fx_rates_source: FxRatesSource) -> RunRequest | SkipReason:
    day = (context.scheduled_execution_time - timedelta(days=1)).date()
    if not fx_rates_source.base_url:
        bundled_end = ecb.bundled_history()["rate_date"].max()
        if day > bundled_end:
            return SkipReason(
                f"the bundled ECB history ends at {bundled_end}; set FX_RATES_URL (e.g. {ecb.ECB_BASE_URL}) "
                f"to fetch {day}"
            )
    return RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())


defs = Definitions(assets=with_code_links([fx_rates]), jobs=[fx_rates_job], schedules=[fx_rates_schedule])
