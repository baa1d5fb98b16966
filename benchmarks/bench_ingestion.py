"""Benchmark ingestion alone (ingestion_job): the first full snapshot, then an incremental capture.

    .venv/bin/python -m benchmarks.bench_ingestion --scales 1 10 100 [--s3] [--incremental-rows 1000] \
        [--out benchmarks/results/ingestion.md]

Same mechanics as bench_etl: per scale a fresh embedded PostgreSQL and fresh buckets, seed_totesys
(seed=42), then ingestion_job in its own process (see --runner) - once for the full snapshot, once
after N changed rows. ingestion_job uses Dagster's default (multiprocess) executor: peak RSS is that
of the run's whole process tree, the step's child process included (process_tree.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.job_runs import TimedRun
from benchmarks.report import Report, failure_report, fmt_mb, fmt_s, fmt_wall, table
from benchmarks.scale_world import Workspace, parse_bench_args

HEADERS = [
    "scale",
    "source rows",
    "seed s",
    "full snapshot s",
    "raw step s",
    "peak RSS MB",
    "ingestion bucket MB",
    "incremental s",
    "raw step s",
    "peak RSS MB",
    "changed rows",
]
NOTE = (
    "Wall = the job's whole process (start-up and code-location load included); step = "
    "`raw_totesys_tables` from its STEP_START to its STEP_SUCCESS event in Dagster's event log.\n"
)


def lake_size_mb(url: str) -> float | None:
    path = Path(url)
    if not path.is_dir():
        return None
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def bench_scale(ws: Workspace, scale: float, args: argparse.Namespace) -> tuple[list[str], list[TimedRun]]:
    """Seed, take the full snapshot and, when it succeeds, an incremental capture after changing rows.
    Returns the scale's table row and its failed runs."""
    env = ws.scale(scale)
    seed_s, counts = env.seed(args.seed)
    full = env.run_job("ingestion_job", "full")
    size = lake_size_mb(env.ingestion_url)
    incr, changed = None, {}
    if full.ok:
        changed = env.apply_changes(args.incremental_rows)
        incr = env.run_job("ingestion_job", "incremental")
    row = [
        f"{scale:g}",
        f"{sum(counts.values()):,}",
        fmt_s(seed_s),
        fmt_wall(full),
        fmt_s(full.steps.get("raw_totesys_tables")),
        fmt_mb(full.peak_rss_mb),
        "-" if size is None else f"{size:,.1f}",
        fmt_wall(incr),
        "-" if incr is None else fmt_s(incr.steps.get("raw_totesys_tables")),
        "-" if incr is None else fmt_mb(incr.peak_rss_mb),
        f"{sum(changed.values()):,}" if changed else "-",
    ]
    print(f"scale {scale:g} done; logs in {env.logs}", flush=True)
    return row, [r for r in (full, incr) if r is not None and not r.ok]


def main(argv: list[str] | None = None) -> int:
    args = parse_bench_args(__doc__, argv)
    report = Report("ingestion_job benchmark")
    ws = Workspace(keep=args.keep, s3=args.s3, runner=args.runner)
    rows, failures, ok = [], [], True
    for scale in args.scales:
        try:
            row, failed = bench_scale(ws, scale, args)
        except Exception as exc:
            ok = False
            rows.append([f"{scale:g}", *["-"] * 9, f"error: {exc}"])
            continue
        rows.append(row)
        failures += [(scale, r) for r in failed]
        ok = ok and not failed
    report.emit(table(HEADERS, rows) + "\n")
    report.emit(NOTE)
    for scale, r in failures:
        report.emit(f"Scale {scale:g}: " + failure_report(r))
    report.save(args.out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
