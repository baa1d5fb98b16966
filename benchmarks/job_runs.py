"""One timed job run of the scale benchmarks: the job in its own process, its wall time, the peak
resident set of its process tree (process_tree.py) and its profile from Dagster's event log (step
times, start-to-end time, events by kind: step_times.run_profile).

Two ways to run it (--runner):
- reveries: `python -m benchmarks.timed_job`, the job on an ephemeral instance as `reveries run` runs
  it; that process reads its profile from its instance before it exits;
- dagster: `dagster job execute` on a SQLite instance in the scale's folder (what it uses from a shell
  without DAGSTER_HOME, kept here so the run's events can be read after it exits).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.process_tree import run_sampled
from benchmarks.step_times import newest_run_profile
from reveries_pipeline.dagster_instance import PROJECT_INSTANCE_YAML
from reveries_pipeline_tests.faults.harness import BIN, FaultWorld, JobRun

RUNNERS = {
    "reveries": "`python -m benchmarks.timed_job`: the job in one process on an ephemeral instance, as "
    "`reveries run` runs it",
    "dagster": "`dagster job execute` (Dagster's SQLite instance: ~10 ms more per event)",
}


@dataclass
class TimedRun:
    job: str
    process: JobRun
    peak_rss_mb: float | None  # the process tree's
    profile: dict = field(default_factory=dict)
    started_at: float = 0.0  # epoch seconds when the process was started

    @property
    def steps(self) -> dict[str, float]:
        return self.profile.get("steps", {})

    @property
    def events(self) -> dict[str, int]:
        return self.profile.get("events", {})

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    @property
    def wall_s(self) -> float:
        return self.process.seconds

    @property
    def ok(self) -> bool:
        return self.process.ok

    def tail(self, lines: int = 40) -> str:
        return self.process.tail(lines)


def _dagster_home(world: FaultWorld) -> Path:
    """The folder of the SQLite instance `dagster job execute` records its runs in, with the project's
    instance settings (the ones it reads from the project folder without DAGSTER_HOME)."""
    home = world.home / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copyfile(PROJECT_INSTANCE_YAML, home / "dagster.yaml")
    return home


def run_timed(world: FaultWorld, job: str, runner: str, log_path: Path, log_level: str = "DEBUG") -> TimedRun:
    """Run `job` in its own process with `world`'s endpoints; its output is kept in `log_path`. The
    reveries runner logs at `log_level` (DEBUG: Dagster's events too; `reveries run` logs at INFO)."""
    profile_file = log_path.with_suffix(".profile.json")
    if runner == "reveries":
        argv = [sys.executable, "-m", "benchmarks.timed_job", "--profile", str(profile_file), "--log-level", log_level]
        argv += ["--job", job]
        env = world.env()
    else:
        argv = [str(BIN / "dagster"), "job", "execute", "-m", "reveries_pipeline.definitions", "-j", job]
        env = world.env(DAGSTER_HOME=str(_dagster_home(world)))
    started_at = time.time()
    process, peak_mb = run_sampled(argv, env, log_path)
    if runner == "reveries":
        profile = json.loads(profile_file.read_text()) if profile_file.exists() else {}
    else:
        profile = newest_run_profile(Path(env["DAGSTER_HOME"]), job)
    return TimedRun(job, process, peak_mb, profile, started_at)
