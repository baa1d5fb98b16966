"""Shared mechanics for bench_etl.py and bench_ingestion.py.

Each scale gets a fresh embedded PostgreSQL (its own data directory, held by this process until exit)
with databases totesys_<scale> and warehouse_<scale>, fresh buckets (local folders, or buckets on a
moto server with --s3), and runs the pipeline the way external checks do: as a subprocess
`dagster job execute -m reveries_pipeline.definitions -j <job>` on an ephemeral Dagster instance.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from reveries_pipeline.catalog import STAR_TABLES
from reveries_pipeline.embedded import embedded_dsn
from reveries_pipeline.totesys.seed import seed_totesys

PROJECT = Path(__file__).resolve().parent.parent
DAGSTER = PROJECT / ".venv" / "bin" / "dagster"
GNU_TIME = Path("/usr/bin/time")
STEP_RE = re.compile(r'Finished execution of step "([^"]+)" in ([0-9.hms]+)\.')
DURATION_RE = re.compile(r"([0-9.]+)(ms|h|m|s)")
RSS_RE = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

# source table -> (warehouse fact table, natural id), from the catalog
FACTS = {spec.reconciled_with: (name, spec.natural_id) for name, spec in STAR_TABLES.items() if spec.is_fact}


# How a run is launched, as an operator would from a shell.
RUNNERS = {
    "reveries": lambda job: [str(DAGSTER.parent / "reveries"), "run", "--job", job, "--log-level", "DEBUG"],
    "dagster": lambda job: [str(DAGSTER), "job", "execute", "-m", "reveries_pipeline.definitions", "-j", job],
}


def scale_label(scale: float) -> str:
    return f"{scale:g}".replace(".", "_")


def parse_duration(text: str) -> float:
    """Dagster's format_duration back to seconds: '533ms', '2.1s', '4m52s', '1h4m'."""
    return sum(float(n) * UNIT_SECONDS[unit] for n, unit in DURATION_RE.findall(text))


@dataclass
class RunResult:
    job: str
    returncode: int
    wall_s: float
    peak_rss_mb: float | None
    steps: dict[str, float] = field(default_factory=dict)
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Workspace:
    """Temp root for all scales; removed at exit after the embedded servers stop (atexit is LIFO)."""

    def __init__(self, keep: bool = False, s3: bool = False, runner: str = "reveries"):
        self.root = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        if not keep:
            atexit.register(shutil.rmtree, self.root, True)
        self.s3 = s3
        self.runner = runner
        self._moto = None
        if s3:
            self._start_moto()

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._moto.start()
        atexit.register(self._moto.stop)
        os.environ.update(
            AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto fake credentials
            AWS_DEFAULT_REGION="eu-west-2",
        )
        for var in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3"):
            os.environ.pop(var, None)

    def scale(self, scale: float) -> ScaleEnv:
        return ScaleEnv(self, scale)


class ScaleEnv:
    def __init__(self, ws: Workspace, scale: float):
        self.scale = scale
        self.runner = ws.runner
        label = scale_label(scale)
        self.dir = ws.root / f"scale-{label}"
        self.dir.mkdir(parents=True)
        pgdata = self.dir / "pg"
        self.totesys_dsn = embedded_dsn(f"totesys_{label}", pgdata=pgdata)
        self.warehouse_dsn = embedded_dsn(f"warehouse_{label}", pgdata=pgdata)
        self.home = self.dir / "reveries-home"
        self.home.mkdir()
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        # Run from the project folder, exactly as operators and external checks do: Dagster's temporary
        # instance then reads the project's dagster.yaml (memory storage when DAGSTER_PG_URL is unset).
        self.cwd = PROJECT
        if ws.s3:
            import boto3

            s3 = boto3.client("s3", region_name="eu-west-2")
            buckets = []
            for kind in ("ingestion", "processed"):
                name = f"bench-{kind}-{label.replace('_', '-')}"
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
                buckets.append(f"s3://{name}")
            self.ingestion_url, self.processed_url = buckets
        else:
            self.ingestion_url = str(self.dir / "lake" / "ingestion")
            self.processed_url = str(self.dir / "lake" / "processed")
            for url in (self.ingestion_url, self.processed_url):
                Path(url).mkdir(parents=True)
        self._runs = 0

    def seed(self, seed: int = 42) -> tuple[float, dict[str, int]]:
        start = time.perf_counter()
        counts = seed_totesys(self.totesys_dsn, scale=self.scale, seed=seed)
        return time.perf_counter() - start, counts

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("DAGSTER_HOME", None)  # ephemeral instance
        env.update(
            TOTESYS_DSN=self.totesys_dsn,
            WAREHOUSE_DSN=self.warehouse_dsn,
            INGESTION_BUCKET_URL=self.ingestion_url,
            PROCESSED_BUCKET_URL=self.processed_url,
            REVERIES_HOME=str(self.home),
            PYTHONUNBUFFERED="1",
        )
        return env

    def run_job(self, job: str, name: str) -> RunResult:
        self._runs += 1
        log_path = self.logs / f"{self._runs:02d}-{name}.log"
        cmd = RUNNERS[self.runner](job)
        rss_file = self.logs / f"{self._runs:02d}-{name}.time"
        use_gnu_time = GNU_TIME.exists()
        if use_gnu_time:
            cmd = [str(GNU_TIME), "-v", "-o", str(rss_file), *cmd]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        with open(log_path, "wb") as log:
            start = time.perf_counter()
            proc = subprocess.run(  # noqa: S603 - fixed argv
                cmd, cwd=self.cwd, env=self.child_env(), stdout=log, stderr=subprocess.STDOUT
            )
            wall = time.perf_counter() - start
        peak_kb: int | None = None
        if use_gnu_time and rss_file.exists():
            m = RSS_RE.search(rss_file.read_text(errors="replace"))
            peak_kb = int(m.group(1)) if m else None
        if peak_kb is None:
            after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            peak_kb = after if after > before else None  # only a new maximum is attributable to this child
        steps: dict[str, float] = {}
        for step, dur in STEP_RE.findall(log_path.read_text(errors="replace")):
            steps[step] = parse_duration(dur)
        return RunResult(job, proc.returncode, wall, peak_kb / 1024 if peak_kb else None, steps, log_path)

    def apply_changes(self, rows: int) -> dict[str, int]:
        """UPDATE rows//2 sales orders and rows - rows//2 payments, chosen deterministically (hashed ids)."""
        n_orders, n_payments = rows // 2, rows - rows // 2
        with psycopg.connect(self.totesys_dsn, autocommit=False) as conn:
            so = conn.execute(
                """
                UPDATE sales_order SET units_sold = units_sold + 1, last_updated = now()
                WHERE sales_order_id IN (
                    SELECT sales_order_id FROM sales_order
                    ORDER BY (sales_order_id::bigint * 2654435761) %% 4294967296, sales_order_id
                    LIMIT %s)
                """,
                (n_orders,),
            ).rowcount
            pay = conn.execute(
                """
                UPDATE payment SET paid = true, last_updated = now()
                WHERE payment_id IN (
                    SELECT payment_id FROM payment
                    ORDER BY paid, (payment_id::bigint * 2654435761) %% 4294967296, payment_id
                    LIMIT %s)
                """,
                (n_payments,),
            ).rowcount
            conn.commit()
        return {"sales_order": so, "payment": pay}

    def verify_warehouse(self) -> list[dict]:
        rows = []
        with psycopg.connect(self.totesys_dsn) as src, psycopg.connect(self.warehouse_dsn) as wh:
            for source, (fact, natural_id) in FACTS.items():
                src_n = src.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
                try:
                    total, distinct = wh.execute(
                        f"SELECT count(*), count(DISTINCT {natural_id}) FROM {fact}"
                    ).fetchone()
                except psycopg.Error as exc:
                    wh.rollback()
                    total = distinct = None
                    print(f"  ! {fact}: {exc}".rstrip(), file=sys.stderr)
                rows.append(
                    {
                        "fact": fact,
                        "rows": total,
                        "distinct_ids": distinct,
                        "source": source,
                        "source_rows": src_n,
                        "ok": distinct == src_n,
                    }
                )
        return rows


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def failure_report(result: RunResult, lines: int = 40) -> str:
    return f"**{result.job} failed (exit {result.returncode}); log tail:**\n\n```\n{result.tail(lines)}\n```\n"


def fmt_wall(result: RunResult | None) -> str:
    """A run's wall time, marked when the run failed; '-' for a run that did not happen."""
    if result is None:
        return "-"
    return fmt_s(result.wall_s) + ("" if result.ok else " (failed)")


def parse_bench_args(description: str, argv: list[str] | None, **helps: str) -> argparse.Namespace:
    """The options bench_etl.py and bench_ingestion.py share; ``helps`` maps an option's dest to its
    --help text (an option without one shows none)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0], help=helps.get("scales"))
    parser.add_argument("--s3", action="store_true", help=helps.get("s3"))
    parser.add_argument("--incremental-rows", type=int, default=1000, help=helps.get("incremental_rows"))
    parser.add_argument("--seed", type=int, default=42, help=helps.get("seed"))
    parser.add_argument("--out", type=Path, default=None, help=helps.get("out"))
    parser.add_argument("--keep", action="store_true", help=helps.get("keep"))
    parser.add_argument(
        "--runner",
        choices=sorted(RUNNERS),
        default="reveries",
        help="reveries: `reveries run --job` (the job in one process, ephemeral instance); dagster: `dagster job "
        "execute` (Dagster's throwaway SQLite instance: ~10 ms more per event)",
    )
    return parser.parse_args(argv)


class Report:
    """The markdown report: printed as it is written (a long benchmark shows progress) and kept for --out."""

    def __init__(self, title: str):
        self.lines: list[str] = []
        self.emit(f"# {title}\n")
        self.emit(
            f"Command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`  \n"
            f"Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
        )

    def emit(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)

    def save(self, path: Path | None) -> None:
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(self.lines))
            print(f"written {path}")
