"""Change -> warehouse latency under `reveries dev` on the embedded default.

    .venv/bin/python -m benchmarks.bench_latency [--mode poll|logical] [--minutes 4] [--every 5] \
        [--out benchmarks/results/latency-poll.md]

In a temporary REVERIES_HOME: seed totesys (scale 1), start `reveries dev` (UI, daemon, sensors and the
backstop schedule as a user gets them), wait until the UI answers and the first etl_job (launched by
source_change_sensor) has loaded the warehouse, then:

1. idle minute: no changes; the CPU seconds of the `reveries dev` process tree and the runs launched
   (the target is 0);
2. changes: one new sales_order committed every --every seconds for --minutes minutes; for each, the
   time from its commit to its row in the warehouse's fact_sales_order (polled every 0.2 s).

Prints p50/p95/max latency and the runs launched, and writes a markdown report. --mode logical sets
TOTESYS_CAPTURE=logical and runs `reveries totesys setup-cdc --apply` before starting.
Targets (issue 18): p95 <= 60 s in poll mode, <= 30 s in logical mode, no runs while idle.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg

from benchmarks.report import Report, table

PROJECT = Path(__file__).resolve().parent.parent
REVERIES = Path(sys.executable).with_name("reveries")  # the venv running this benchmark
NEW_ORDER = (
    "INSERT INTO sales_order (created_at, last_updated, design_id, staff_id, counterparty_id, units_sold,"
    " unit_price, currency_id, agreed_delivery_date, agreed_payment_date, agreed_delivery_location_id)"
    " SELECT now(), now(), design_id, staff_id, counterparty_id, units_sold, unit_price, currency_id,"
    " agreed_delivery_date, agreed_payment_date, agreed_delivery_location_id"
    " FROM sales_order ORDER BY sales_order_id LIMIT 1 RETURNING sales_order_id"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["poll", "logical"], default="poll", help="TOTESYS_CAPTURE for the run")
    parser.add_argument("--minutes", type=float, default=4.0, help="how long changes are made (default 4)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between changes (default 5)")
    parser.add_argument("--idle-seconds", type=float, default=60.0, help="the idle window measured (default 60)")
    parser.add_argument("--scale", type=float, default=1.0, help="totesys seed scale (default 1)")
    parser.add_argument("--port", type=int, default=3300, help="port of the dev UI (default 3300)")
    parser.add_argument("--out", type=Path, default=None, help="markdown report (default: print only)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary REVERIES_HOME")
    return parser.parse_args(argv)


class Dev:
    """`reveries dev` in its own process group, in a temporary REVERIES_HOME."""

    def __init__(self, args: argparse.Namespace):
        self.home = Path(tempfile.mkdtemp(prefix="bench-latency-"))
        if not args.keep:
            atexit.register(shutil.rmtree, self.home, True)
        self.port = args.port
        self.env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "DAGSTER_PG_URL")}
        for var in ("TOTESYS_DSN", "WAREHOUSE_DSN", "INGESTION_BUCKET_URL", "PROCESSED_BUCKET_URL"):
            self.env.pop(var, None)  # the embedded default, nothing else
        self.env.update(REVERIES_HOME=str(self.home), TOTESYS_CAPTURE=args.mode, PYTHONUNBUFFERED="1")
        self.log = self.home / "dev.log"
        self.proc: subprocess.Popen | None = None

    def reveries(self, *argv: str) -> None:
        subprocess.run([str(REVERIES), *argv], env=self.env, cwd=PROJECT, check=True, capture_output=True)  # noqa: S603

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv
                [str(REVERIES), "dev", "--port", str(self.port)],
                env=self.env,
                cwd=PROJECT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            # Ctrl-C to our own group, as at a terminal: dagster dev then stops its daemon, webserver
            # and code servers (a SIGTERM would leave the code server, in its own session, behind)
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def ui_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/server_info", timeout=2) as r:  # noqa: S310
                return r.status == 200
        except OSError:
            return False

    def cpu_seconds(self) -> float:
        """User + system CPU of the dev process tree (every process in its session)."""
        total = 0.0
        for p in psutil.process_iter(["pid"]):
            try:
                if os.getsid(p.pid) == self.proc.pid:
                    t = p.cpu_times()
                    total += t.user + t.system
            except (psutil.Error, ProcessLookupError, PermissionError):
                continue
        return total


def wait_for(condition, what: str, timeout: float, dev: Dev) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if dev.proc.poll() is not None:
            sys.exit(f"reveries dev exited ({dev.proc.returncode}) waiting for {what}; log: {dev.log}")
        if time.monotonic() > deadline:
            sys.exit(f"gave up after {timeout:g} s waiting for {what}; log: {dev.log}")
        time.sleep(0.5)


def runs_by_job(instance) -> Counter:
    return Counter(r.job_name for r in instance.get_runs(limit=10_000))


def run_costs(instance, since: datetime) -> str:
    """Per job, the finished runs created after `since`: how many, mean events and seconds (start to end)."""
    from dagster import RunsFilter

    per_job: dict[str, list[tuple[int, float]]] = {}
    for record in instance.get_run_records(RunsFilter(created_after=since), limit=10_000):
        run = record.dagster_run
        if record.start_time is None or record.end_time is None:
            continue  # not finished (or never started): no cost to report yet
        events = len(instance.get_records_for_run(run.run_id, limit=100_000).records)
        per_job.setdefault(run.job_name, []).append((events, record.end_time - record.start_time))
    rows = [
        [job, str(len(v)), f"{statistics.mean(e for e, _ in v):.0f}", f"{statistics.mean(s for _, s in v):.1f}"]
        for job, v in sorted(per_job.items())
    ]
    return table(["job", "runs", "events per run", "seconds per run"], rows) if rows else "(no runs)"


class Watcher(threading.Thread):
    """Polls the warehouse for the sales orders committed so far; records when each appears."""

    def __init__(self, warehouse_dsn: str):
        super().__init__(daemon=True)
        self.dsn = warehouse_dsn
        self.committed: dict[int, float] = {}
        self.seen: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                with self.lock:
                    pending = [i for i in self.committed if i not in self.seen]
                if pending:
                    rows = conn.execute(
                        "SELECT DISTINCT sales_order_id FROM fact_sales_order WHERE sales_order_id = ANY(%s)",
                        (pending,),
                    ).fetchall()
                    now = time.monotonic()
                    with self.lock:
                        self.seen.update({i: now for (i,) in rows})
                time.sleep(0.2)

    def latencies(self) -> list[float]:
        with self.lock:
            return sorted(self.seen[i] - t for i, t in self.committed.items() if i in self.seen)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    dev = Dev(args)
    report = Report(f"Change -> warehouse latency, reveries dev, {args.mode} mode")
    os.environ.update(REVERIES_HOME=str(dev.home))
    from reveries_pipeline.dagster_instance import prepare_dagster_home
    from reveries_pipeline.embedded import embedded_dsn

    dev.reveries("totesys", "seed", "--scale", str(args.scale))
    if args.mode == "logical":
        dev.reveries("totesys", "setup-cdc", "--apply")
    totesys, warehouse = embedded_dsn("totesys"), embedded_dsn("warehouse")
    started = time.monotonic()
    dev.start()
    wait_for(dev.ui_up, "the UI", 180, dev)
    report.emit(f"UI up after {time.monotonic() - started:.1f} s (port {args.port}); REVERIES_HOME `{dev.home}`\n")

    with psycopg.connect(totesys) as src:
        orders = src.execute("SELECT count(*) FROM sales_order").fetchone()[0]

    def loaded() -> bool:
        with psycopg.connect(warehouse) as wh:
            try:
                n = wh.execute("SELECT count(DISTINCT sales_order_id) FROM fact_sales_order").fetchone()[0]
            except psycopg.Error:
                return False
        return n >= orders

    wait_for(loaded, "the first load of the warehouse", 600, dev)
    report.emit(f"Warehouse loaded by the first run after {time.monotonic() - started:.1f} s\n")
    prepare_dagster_home(dev.home / "dagster_home", embedded_dsn("dagster"))
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        wait_for(lambda: not instance.get_runs_count(_unfinished()), "the first runs to finish", 300, dev)
        time.sleep(35)  # a bucket-sensor tick (30 s) after the first load: idle means settled
        report.emit(idle_minute(dev, instance, args.idle_seconds))
        report.emit(changes(dev, instance, totesys, warehouse, args))
    dev.stop()
    report.emit(f"dev log: `{dev.log}`{' (kept)' if args.keep else ' (removed at exit)'}\n")
    report.save(args.out)


def _unfinished():
    from dagster import DagsterRunStatus, RunsFilter

    done = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    return RunsFilter(statuses=[s for s in DagsterRunStatus if s not in done])


def idle_minute(dev: Dev, instance, seconds: float) -> str:
    before_runs, before_cpu = runs_by_job(instance), dev.cpu_seconds()
    time.sleep(seconds)
    launched = runs_by_job(instance) - before_runs
    cpu = dev.cpu_seconds() - before_cpu
    return (
        f"## Idle\n\n{seconds:g} s with no change: runs launched **{sum(launched.values())}** "
        f"({dict(launched) or 'none'}); CPU of the `reveries dev` process tree **{cpu:.1f} s** "
        f"({100 * cpu / seconds:.0f}% of one core)\n"
    )


def changes(dev: Dev, instance, totesys: str, warehouse: str, args: argparse.Namespace) -> str:
    watcher = Watcher(warehouse)
    watcher.start()
    before_runs, since = runs_by_job(instance), datetime.now(UTC)
    count = int(args.minutes * 60 / args.every)
    next_at = time.monotonic()
    with psycopg.connect(totesys) as src:
        for _ in range(count):
            time.sleep(max(0.0, next_at - time.monotonic()))
            (order_id,) = src.execute(NEW_ORDER).fetchone()
            src.commit()
            with watcher.lock:
                watcher.committed[order_id] = time.monotonic()
            next_at += args.every
    wait_for(lambda: len(watcher.latencies()) == count, "every change to reach the warehouse", 600, dev)
    watcher.stop.set()
    launched = runs_by_job(instance) - before_runs
    lat = watcher.latencies()
    rows = [[args.mode, str(count), *(f"{v:.1f}" for v in (percentile(lat, 50), percentile(lat, 95), max(lat)))]]
    return (
        f"## Changes\n\nOne new sales_order every {args.every:g} s for {args.minutes:g} min; latency = commit -> "
        f"its row in fact_sales_order.\n\n{table(['mode', 'changes', 'p50 s', 'p95 s', 'max s'], rows)}\n\n"
        f"Runs launched meanwhile: {sum(launched.values())} ({dict(launched)})\n\n{run_costs(instance, since)}\n"
    )


if __name__ == "__main__":
    main()
