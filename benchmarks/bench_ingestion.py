"""Benchmark ingestion alone (ingestion_job): the first full snapshot, then an incremental capture.

    .venv/bin/python benchmarks/bench_ingestion.py --scales 1 10 100 [--s3] [--incremental-rows 1000] \
        [--out benchmarks/results/ingestion.md]

Same mechanics as bench_etl.py: per scale a fresh embedded PostgreSQL and fresh buckets, seed_totesys
(seed=42), then `dagster job execute -m reveries_pipeline.definitions -j ingestion_job` as a subprocess
(ephemeral instance) - once for the full snapshot, once after N changed rows. ingestion_job uses
Dagster's default (multiprocess) executor, so peak RSS is the largest single process of the run
(GNU time reports the maximum over the child and its waited-for descendants, not their sum).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pipeline_bench import Workspace, failure_report, fmt_mb, fmt_s, table  # noqa: E402


def lake_size_mb(url: str) -> float | None:
    path = Path(url)
    if not path.is_dir():
        return None
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--s3", action="store_true")
    parser.add_argument("--incremental-rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    out: list[str] = []

    def emit(text: str) -> None:
        print(text, flush=True)
        out.append(text)

    emit("# ingestion_job benchmark\n")
    emit(
        f"Command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`  \n"
        f"Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
    )
    ws = Workspace(keep=args.keep, s3=args.s3)
    rows, failures, ok = [], [], True
    for scale in args.scales:
        try:
            env = ws.scale(scale)
            seed_s, counts = env.seed(args.seed)
            full = env.run_job("ingestion_job", "full")
            size = lake_size_mb(env.ingestion_url)
            incr, changed = None, {}
            if full.ok:
                changed = env.apply_changes(args.incremental_rows)
                incr = env.run_job("ingestion_job", "incremental")
            for r in (full, incr):
                if r is not None and not r.ok:
                    failures.append((scale, r))
                    ok = False
            rows.append(
                [
                    f"{scale:g}",
                    f"{sum(counts.values()):,}",
                    fmt_s(seed_s),
                    fmt_s(full.wall_s) + ("" if full.ok else " (failed)"),
                    fmt_s(full.steps.get("raw_totesys_tables")),
                    fmt_mb(full.peak_rss_mb),
                    "-" if size is None else f"{size:,.1f}",
                    "-" if incr is None else fmt_s(incr.wall_s) + ("" if incr.ok else " (failed)"),
                    "-" if incr is None else fmt_s(incr.steps.get("raw_totesys_tables")),
                    "-" if incr is None else fmt_mb(incr.peak_rss_mb),
                    f"{sum(changed.values()):,}" if changed else "-",
                ]
            )
            print(f"scale {scale:g} done; logs in {env.logs}", flush=True)
        except Exception as exc:
            ok = False
            rows.append([f"{scale:g}", *["-"] * 9, f"error: {exc}"])

    emit(
        table(
            [
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
            ],
            rows,
        )
        + "\n"
    )
    emit(
        "Wall = whole `dagster job execute` process (start-up and code-location load included); "
        "step = Dagster's 'Finished execution of step \"raw_totesys_tables\"' duration.\n"
    )
    for scale, r in failures:
        emit(f"Scale {scale:g}: " + failure_report(r))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(out))
        print(f"written {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
