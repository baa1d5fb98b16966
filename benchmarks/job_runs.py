"""One timed job run of the scale benchmarks: the job in its own process (started by the fault suite's
run_process), its wall time, its peak resident set (GNU time) and its step times from Dagster's event log.

Two ways to run it (--runner):
- reveries: `python -m benchmarks.timed_job`, the job on an ephemeral instance as `reveries run` runs
  it; that process reads its step times from its instance before it exits;
- dagster: `dagster job execute` on a SQLite instance in the scale's folder (what it uses from a shell
  without DAGSTER_HOME, kept here so the run's events can be read after it exits).
"""

from __future__ import annotations

import json
import re
import resource
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.step_times import newest_run_step_seconds
from reveries_pipeline.dagster_instance import PROJECT_INSTANCE_YAML
from reveries_pipeline_tests.faults.harness import BIN, FaultWorld, JobRun, run_process

GNU_TIME = Path("/usr/bin/time")
RSS_RE = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
RUNNERS = {
    "reveries": "`python -m benchmarks.timed_job`: the job in one process on an ephemeral instance, as "
    "`reveries run` runs it",
    "dagster": "`dagster job execute` (Dagster's SQLite instance: ~10 ms more per event)",
}


@dataclass
class TimedRun:
    job: str
    process: JobRun
    peak_rss_mb: float | None
    steps: dict[str, float]

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


def _peak_rss_mb(time_report: Path, children_before: int) -> float | None:
    """GNU time's maximum resident set of the run; without GNU time, the children's maximum when the run
    raised it (an earlier, larger child would hide this one's)."""
    match = RSS_RE.search(time_report.read_text(errors="replace")) if time_report.exists() else None
    if match:
        return int(match.group(1)) / 1024
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return after / 1024 if after > children_before else None


def run_timed(world: FaultWorld, job: str, runner: str, log_path: Path) -> TimedRun:
    """Run `job` in its own process with `world`'s endpoints; its output is kept in `log_path`."""
    step_file, time_report = log_path.with_suffix(".steps.json"), log_path.with_suffix(".time")
    if runner == "reveries":
        argv = [sys.executable, "-m", "benchmarks.timed_job", "--step-times", str(step_file), "--job", job]
        env = world.env()
    else:
        argv = [str(BIN / "dagster"), "job", "execute", "-m", "reveries_pipeline.definitions", "-j", job]
        env = world.env(DAGSTER_HOME=str(_dagster_home(world)))
    if GNU_TIME.exists():
        argv = [str(GNU_TIME), "-v", "-o", str(time_report), *argv]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    process = run_process(argv, env, timeout=None)
    log_path.write_text(process.output)
    if runner == "reveries":
        steps = json.loads(step_file.read_text()) if step_file.exists() else {}
    else:
        steps = newest_run_step_seconds(Path(env["DAGSTER_HOME"]), job)
    return TimedRun(job, process, _peak_rss_mb(time_report, children_before), steps)
