"""The hourly delete reconciliation: poll mode runs the whole chain with reconcile_deletes, logical skips."""

from __future__ import annotations

from dagster import build_schedule_context, validate_run_config

from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.schedule import deleted_rows_schedule


def test_poll_mode_runs_etl_job_with_reconciliation_and_the_config_is_valid_for_it():
    from reveries_pipeline.definitions import defs

    request = deleted_rows_schedule(build_schedule_context(resources={"totesys_capture": TotesysCapture()}))
    assert deleted_rows_schedule.job_name == "etl_job"
    assert request.run_config["ops"]["raw_totesys_tables"]["config"] == {"reconcile_deletes": True}
    validated = validate_run_config(defs.resolve_job_def("etl_job"), request.run_config)
    assert validated["ops"]["raw_totesys_tables"]["config"]["reconcile_deletes"] is True


def test_logical_mode_skips_it():
    context = build_schedule_context(resources={"totesys_capture": TotesysCapture(mode="logical")})
    assert "logical mode" in deleted_rows_schedule(context).skip_message
