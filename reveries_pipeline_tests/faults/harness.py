"""The fault suite's world: a source, a warehouse and two buckets, driven by real job processes
(`reveries run`) that can be killed with SIGKILL when their log shows a chosen point.

Plain classes and functions, no pytest fixtures: the scale benchmarks (benchmarks/scale_world.py)
build their worlds and run their job processes with these too."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg

from reveries_pipeline.resources import ObjectStore
from reveries_pipeline_tests.support import lake_keys, subprocess_env

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class JobRun:
    job: str
    returncode: int | None
    output: str
    killed: bool
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.killed

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def run_process(argv: list[str], env: dict[str, str], on_line=None, timeout: float | None = 240) -> JobRun:
    """Run argv in its own process group, handing each output line to `on_line(line, pgid)` as it comes
    (no time limit with timeout=None)."""
    started = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        argv,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    killed = threading.Event()

    def watch() -> None:
        for line in proc.stdout:
            lines.append(line)
            if on_line is not None and on_line(line, proc.pid):
                killed.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        watcher.join(5)
        raise AssertionError(f"{argv[-1]} did not finish in {timeout}s:\n{''.join(lines[-60:])}") from None
    watcher.join(10)
    return JobRun(argv[-1], proc.returncode, "".join(lines), killed.is_set(), time.perf_counter() - started)


def kill_at(pattern: str):
    """An on_line hook that SIGKILLs the whole process group (the machine "dies") at the first match."""
    regex, done = re.compile(pattern), threading.Event()

    def on_line(line: str, pgid: int) -> bool:
        if done.is_set() or not regex.search(line):
            return False
        done.set()
        os.killpg(pgid, signal.SIGKILL)
        return True

    return on_line


def job_argv(job: str) -> list[str]:
    """The command that runs `job` as an operator would: `reveries run` executes it in its own process
    on an ephemeral instance. (`dagster job execute` runs the same job but pays ~3 s more per run for
    Dagster's throwaway SQLite instance, which would push the suite past its 5 minutes.)"""
    if job == "rebuild_job":
        return [str(BIN / "reveries"), "rebuild", "--yes"]
    return [str(BIN / "reveries"), "run", "--job", job]


def s3_env(endpoint: str) -> dict[str, str]:
    """The environment that points boto3 at an S3 endpoint on loopback, with credentials moto accepts."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto accepts any credentials
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }


@dataclass
class FaultWorld:
    totesys_dsn: str
    warehouse_dsn: str
    ingestion_url: str
    processed_url: str
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(5))

    @property
    def ingestion(self) -> ObjectStore:
        return ObjectStore(url=self.ingestion_url)

    @property
    def processed(self) -> ObjectStore:
        return ObjectStore(url=self.processed_url)

    def env(self, **overrides: str) -> dict[str, str]:
        endpoints = {
            "TOTESYS_DSN": self.totesys_dsn,
            "WAREHOUSE_DSN": self.warehouse_dsn,
            "INGESTION_BUCKET_URL": self.ingestion_url,
            "PROCESSED_BUCKET_URL": self.processed_url,
            "REVERIES_HOME": str(self.home),  # never the developer's embedded default
            "PYTHONUNBUFFERED": "1",
        }
        return subprocess_env(**{**endpoints, **self.extra_env, **overrides})

    def run(self, job: str, kill_when: str | None = None, on_line=None, timeout: float = 240, **env: str) -> JobRun:
        """Run `job` in its own process; SIGKILLed when a line matches `kill_when`, if given."""
        hook = kill_at(kill_when) if kill_when else on_line
        return run_process(job_argv(job), self.env(**env), on_line=hook, timeout=timeout)

    def start(self, job: str, **env: str) -> subprocess.Popen:
        """Start a job without waiting (for races); its output goes to a pipe read on communicate()."""
        return subprocess.Popen(  # noqa: S603 - fixed argv
            job_argv(job),
            cwd=PROJECT_ROOT,
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def reveries(self, *args: str) -> JobRun:
        return run_process([str(BIN / "reveries"), *args], self.env(), timeout=120)

    def change_source(self, orders: int = 8) -> None:
        """One tick of the live simulator: new orders, payments settled, perhaps edited dimensions."""
        from reveries_pipeline.totesys.simulate import simulate_step

        with psycopg.connect(self.totesys_dsn, autocommit=True) as conn:
            simulate_step(conn, self.rng, orders=orders)

    def source(self, query, params=None) -> list[tuple]:
        return _query(self.totesys_dsn, query, params)

    def warehouse(self, query, params=None) -> list[tuple]:
        return _query(self.warehouse_dsn, query, params)

    def bucket_snapshot(self) -> dict[str, dict[str, str]]:
        """Every object key in both buckets, with a digest of its bytes (a rewrite shows up)."""
        return {
            name: {o.key: hashlib.sha256(store.get_bytes(o.key)).hexdigest() for o in store.list_objects("")}
            for name, store in (("ingestion", self.ingestion), ("processed", self.processed))
        }


def _query(dsn: str, query, params=None) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def newest_key(store: ObjectStore, prefix: str) -> str:
    keys = lake_keys(store, prefix)
    assert keys, f"no object under {prefix!r} in {store.url}"
    return keys[-1]


def truncate_object(store: ObjectStore, key: str) -> None:
    """Corrupt an object (in a local bucket) the way a half-finished upload does: keep its first half."""
    assert not store.is_s3
    path = Path(store.url) / key
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
