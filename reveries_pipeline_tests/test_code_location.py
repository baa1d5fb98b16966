"""A snapshot of the whole code location: asset keys and groups, checks, jobs, schedules, sensors, and
the resources each needs. A change to the graph then shows up in review as a diff of
snapshots/code_location.json. After an intended change, regenerate it:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest reveries_pipeline_tests/test_code_location.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "code_location.json"


def _assets(defs) -> dict:
    out = {}
    for assets_def in defs.assets:
        for spec in assets_def.specs:
            out[spec.key.to_user_string()] = {
                "group": spec.group_name,
                "computed_by": assets_def.node_def.name,
                "deps": sorted(dep.asset_key.to_user_string() for dep in spec.deps),
                "kinds": sorted(spec.kinds),
                "checks": sorted(c.name for c in assets_def.check_specs if c.asset_key == spec.key),
                "resources": sorted(assets_def.required_resource_keys),
            }
    return dict(sorted(out.items()))


def _automation(defs) -> dict:
    jobs = {
        job.name: {"tags": dict(sorted(job.tags.items())), "resources": sorted(job.required_resource_keys)}
        for job in defs.resolve_all_job_defs()
        if not job.name.startswith("__")
    }
    schedules = {
        s.name: {"job": s.job_name, "cron": s.cron_schedule, "status": s.default_status.value} for s in defs.schedules
    }
    sensors = {
        s.name: {
            "jobs": sorted(j.name for j in s.jobs) if s.has_jobs else [],
            "interval_s": s.minimum_interval_seconds,
            "status": s.default_status.value,
            "resources": sorted(s.required_resource_keys),
        }
        for s in defs.sensors
    }
    return {"jobs": dict(sorted(jobs.items())), "schedules": schedules, "sensors": dict(sorted(sensors.items()))}


def describe_code_location(defs) -> dict:
    return {
        "assets": _assets(defs),
        **_automation(defs),
        "resources": sorted(defs.resources),
    }


def test_code_location_matches_its_snapshot():
    from reveries_pipeline.definitions import defs

    current = describe_code_location(defs)
    text = json.dumps(current, indent=1, sort_keys=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.exists(), f"no snapshot yet: run with UPDATE_SNAPSHOTS=1 and commit {SNAPSHOT.name}"
    assert json.loads(SNAPSHOT.read_text()) == current, (
        "the code location changed; review the diff and regenerate the snapshot (see this module's docstring)"
    )
