"""Every job of the code location is defined in reveries_pipeline/jobs.py: one module to read for what
each job selects, how it runs and which tags it carries."""

from __future__ import annotations

from reveries_pipeline import jobs
from reveries_pipeline.definitions import defs
from reveries_pipeline.reference.assets import FX_PARTITIONS


def test_every_job_of_the_code_location_is_defined_in_the_jobs_module():
    names = {job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")}
    assert names == {"ingestion_job", "processing_job", "warehouse_job", "fx_rates_job", "etl_job", "rebuild_job"}
    for job in defs.jobs:
        assert getattr(jobs, job.name, None) is job, f"{job.name} is defined outside reveries_pipeline/jobs.py"
    # selected by group, fx_rates_job still takes the asset's daily partitions (schedule, backfills)
    assert defs.resolve_job_def("fx_rates_job").partitions_def == FX_PARTITIONS


def test_schedules_and_sensors_launch_the_jobs_module_s_jobs():
    targets = [s.job_name for s in defs.schedules] + [t.job_name for s in defs.sensors for t in s.targets]
    assert len(targets) == 6  # three schedules, source_change_sensor and the two batch sensors
    assert all(isinstance(getattr(jobs, name, None), type(jobs.etl_job)) for name in targets)
