"""One totesys scale for bench_etl and bench_ingestion: its own embedded PostgreSQL (held by this
process until exit) with databases totesys_<scale> and warehouse_<scale> (and floor_<scale>, the
floor's warehouse: floor.py), fresh buckets (local folders, or buckets on a moto server with --s3), and
the fault suite's FaultWorld over them, whose environment every job process of the scale gets.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from benchmarks.job_runs import RUNNERS, TimedRun, run_timed
from benchmarks.process_tree import run_sampled
from reveries_pipeline.catalog import FACT_TABLES, STAR_TABLE_NAMES
from reveries_pipeline.embedded import embedded_dsn
from reveries_pipeline.totesys.seed import seed_totesys
from reveries_pipeline.warehouse.checks import RECONCILED, reconciliation
from reveries_pipeline.warehouse.report import row_counts
from reveries_pipeline_tests.faults.harness import FaultWorld, JobRun, s3_env
from reveries_pipeline_tests.support import free_port, new_s3_bucket

# UPDATE n rows chosen the same way every time (hashed ids), last_updated = now() so a capture sees them
CHANGE_ORDERS = """
    UPDATE sales_order SET units_sold = units_sold + 1, last_updated = now()
    WHERE sales_order_id IN (
        SELECT sales_order_id FROM sales_order
        ORDER BY (sales_order_id::bigint * 2654435761) %% 4294967296, sales_order_id
        LIMIT %s)
"""
CHANGE_PAYMENTS = """
    UPDATE payment SET paid = true, last_updated = now()
    WHERE payment_id IN (
        SELECT payment_id FROM payment
        ORDER BY paid, (payment_id::bigint * 2654435761) %% 4294967296, payment_id
        LIMIT %s)
"""
KINDS = ("ingestion", "processed")


def scale_label(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


@dataclass
class FloorRun:
    process: JobRun
    peak_rss_mb: float | None  # the process tree's
    result: dict  # floor.run_floor's: phase times, source and star rows ({} when it failed)

    @property
    def ok(self) -> bool:
        return self.process.ok and bool(self.result)

    @property
    def wall_s(self) -> float:
        return self.process.seconds


class Workspace:
    """Temp root for all scales; removed at exit after the embedded servers stop (atexit is LIFO)."""

    def __init__(self, keep: bool = False, s3: bool = False, runner: str = "reveries"):
        self.root = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        if not keep:
            atexit.register(shutil.rmtree, self.root, True)
        self.runner = runner
        self.s3_endpoint = self._start_moto() if s3 else None

    @staticmethod
    def _start_moto() -> str:
        """A moto S3 server on loopback, for the buckets of every scale, until this process exits."""
        from moto.server import ThreadedMotoServer

        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        atexit.register(server.stop)
        endpoint = f"http://127.0.0.1:{port}"
        os.environ.update(s3_env(endpoint))  # this process creates the buckets and reads them back
        for var in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3"):
            os.environ.pop(var, None)
        return endpoint

    def scale(self, scale: float) -> ScaleWorld:
        return ScaleWorld(self, scale)


class ScaleWorld:
    def __init__(self, ws: Workspace, scale: float):
        self.scale, self.runner = scale, ws.runner
        label = scale_label(scale)
        self.dir = ws.root / f"scale-{label}"
        self.logs = self.dir / "logs"
        self.logs.mkdir(parents=True)
        pgdata = self.dir / "pg"
        dsns = [embedded_dsn(f"{db}_{label}", pgdata=pgdata) for db in ("totesys", "warehouse")]
        if ws.s3_endpoint:
            buckets = [new_s3_bucket(ws.s3_endpoint, f"bench-{kind}-{label.replace('_', '-')}") for kind in KINDS]
        else:
            buckets = [str(self.dir / "lake" / kind) for kind in KINDS]
            for url in buckets:
                Path(url).mkdir(parents=True)
        home = self.dir / "reveries-home"
        home.mkdir()
        extra_env = s3_env(ws.s3_endpoint) if ws.s3_endpoint else {}
        self.world = FaultWorld(*dsns, *buckets, home, extra_env=extra_env)
        self.floor_dsn = embedded_dsn(f"floor_{label}", pgdata=pgdata)
        self._runs = 0

    @property
    def ingestion_url(self) -> str:
        return self.world.ingestion_url

    @property
    def processed_url(self) -> str:
        return self.world.processed_url

    def seed(self, seed: int = 42) -> tuple[float, dict[str, int]]:
        start = time.perf_counter()
        counts = seed_totesys(self.world.totesys_dsn, scale=self.scale, seed=seed)
        return time.perf_counter() - start, counts

    def run_job(self, job: str, name: str) -> TimedRun:
        self._runs += 1
        return run_timed(self.world, job, self.runner, self.logs / f"{self._runs:02d}-{name}.log")

    def run_floor(self) -> FloorRun:
        """floor.py in its own process: the source into the floor's own warehouse, its peak RSS sampled."""
        out = self.logs / "floor.json"
        argv = [sys.executable, "-m", "benchmarks.floor", "--lake", str(self.dir / "floor-lake"), "--out", str(out)]
        process, peak_mb = run_sampled(argv, self.world.env(WAREHOUSE_DSN=self.floor_dsn), self.logs / "floor.log")
        return FloorRun(process, peak_mb, json.loads(out.read_text()) if out.exists() else {})

    def star_rows(self) -> dict[str, int]:
        """Rows per star table in the pipeline's warehouse."""
        with psycopg.connect(self.world.warehouse_dsn) as conn:
            counts = row_counts(conn)
        return {t: counts[t] for t in STAR_TABLE_NAMES}

    def apply_changes(self, rows: int) -> dict[str, int]:
        """UPDATE rows//2 sales orders and rows - rows//2 payments, chosen deterministically (hashed ids)."""
        with psycopg.connect(self.world.totesys_dsn) as conn:
            orders = conn.execute(CHANGE_ORDERS, (rows // 2,)).rowcount
            payments = conn.execute(CHANGE_PAYMENTS, (rows - rows // 2,)).rowcount
        return {"sales_order": orders, "payment": payments}

    def reconcile(self) -> list[dict]:
        return reconcile_facts(self.world)


def reconcile_facts(world: FaultWorld) -> list[dict]:
    """Each fact table against its source table, by the warehouse's own reconciliation check, with the
    fact's rows of every version; counts are None where the warehouse has no such table."""
    connect = psycopg.connect
    with connect(world.totesys_dsn, autocommit=True) as src, connect(world.warehouse_dsn, autocommit=True) as wh:
        try:
            versions = row_counts(wh)
            checks = {fact: reconciliation(wh, src, fact) for fact in FACT_TABLES}
        except psycopg.Error:  # no warehouse: the first run failed
            versions, checks = {}, {}
    return [_reconciliation_row(fact, versions.get(fact), checks.get(fact)) for fact in FACT_TABLES]


def _reconciliation_row(fact: str, versions: int | None, check) -> dict:
    metadata = check.metadata if check else {}
    count = {name: metadata[name].value if name in metadata else None for name in ("warehouse", "source")}
    return {
        "fact": fact,
        "rows": versions,
        "distinct_ids": count["warehouse"],
        "source": RECONCILED[fact],
        "source_rows": count["source"],
        "ok": bool(check and check.passed),
    }


def bench_parser(description: str, default_scales: tuple[float, ...] = (1.0, 10.0)) -> argparse.ArgumentParser:
    """The options bench_etl, bench_ingestion and fixed_cost share."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    scales = " ".join(f"{s:g}" for s in default_scales)
    parser.add_argument(
        "--scales", type=float, nargs="+", default=list(default_scales), help=f"totesys scales (default {scales})"
    )
    parser.add_argument("--s3", action="store_true", help="buckets on a moto server instead of local folders")
    parser.add_argument(
        "--incremental-rows", type=int, default=1000, help="source rows changed before the incremental run (1000)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed_totesys's random seed (default 42)")
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown report here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (pgdata, buckets, logs)")
    parser.add_argument(
        "--runner",
        choices=sorted(RUNNERS),
        default="reveries",
        help="how each run is started; " + "; ".join(f"{name}: {what}" for name, what in RUNNERS.items()),
    )
    return parser


def parse_bench_args(description: str, argv: list[str] | None) -> argparse.Namespace:
    return bench_parser(description).parse_args(argv)
