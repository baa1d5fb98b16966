"""Benchmark the whole chain (etl_job) at several totesys scales.

    .venv/bin/python benchmarks/bench_etl.py --scales 1 10 100 [--s3] [--incremental-rows 1000] \
        [--out benchmarks/results/etl.md]

For each scale: a fresh embedded PostgreSQL (totesys_<scale>, warehouse_<scale>), seed_totesys(seed=42),
fresh buckets (local folders, or moto S3 with --s3), then three `dagster job execute -j etl_job`
subprocess runs - initial, idle rerun (no source change), incremental (N changed rows: N/2 sales_order
units_sold+1 and N/2 payment paid=true, all with last_updated=now()) - timing wall clock, per-step
durations (from Dagster's 'Finished execution of step' lines) and the child's peak RSS.
Finally the warehouse fact tables are reconciled against the source.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pipeline_bench import (  # noqa: E402
    Workspace,
    failure_report,
    fmt_mb,
    fmt_s,
    table,
)

STEPS = ("raw_totesys_tables", "star_schema_tables", "warehouse_tables")
RUN_HEADERS = ["run", "exit", "wall s", *[f"{s} s" for s in STEPS], "peak RSS MB"]


def run_row(label: str, r) -> list[str]:
    return [
        label,
        str(r.returncode),
        fmt_s(r.wall_s),
        *[fmt_s(r.steps.get(s)) for s in STEPS],
        fmt_mb(r.peak_rss_mb),
    ]


def bench_scale(ws: Workspace, scale: float, n_changes: int, seed: int, emit) -> dict:
    summary: dict = {"scale": scale}
    env = ws.scale(scale)
    seed_s, counts = env.seed(seed)
    summary["seed_s"] = seed_s
    summary["source_rows"] = sum(counts.values())
    emit(f"\n## Scale {scale:g}\n")
    emit(
        f"Seed: {seed_s:.2f} s, {sum(counts.values()):,} source rows "
        f"({', '.join(f'{t}={n:,}' for t, n in counts.items())})\n"
    )
    buckets = "moto S3" if ws.s3 else "local folders"
    emit(f"Buckets: {buckets} (`{env.ingestion_url}`, `{env.processed_url}`)\n")

    rows, failures = [], []
    initial = env.run_job("etl_job", "initial")
    rows.append(run_row("initial", initial))
    summary["initial"] = initial
    if not initial.ok:
        failures.append(initial)
    else:
        idle = env.run_job("etl_job", "idle")
        rows.append(run_row("idle rerun", idle))
        summary["idle"] = idle
        if not idle.ok:
            failures.append(idle)
        changed = env.apply_changes(n_changes)
        summary["changed"] = changed
        incr = env.run_job("etl_job", "incremental")
        rows.append(run_row(f"incremental ({sum(changed.values()):,} rows)", incr))
        summary["incremental"] = incr
        if not incr.ok:
            failures.append(incr)
    emit(table(RUN_HEADERS, rows) + "\n")
    if "changed" in summary:
        emit(f"Changed rows: {', '.join(f'{t}={n:,}' for t, n in summary['changed'].items())}\n")
    for f in failures:
        emit(failure_report(f))

    verify = env.verify_warehouse()
    summary["verified"] = all(v["ok"] for v in verify)
    emit("Warehouse reconciliation (after the last run):\n")
    emit(
        table(
            [
                "fact table",
                "rows (all versions)",
                "distinct natural ids",
                "source table",
                "source rows",
                "match",
            ],
            [
                [
                    v["fact"],
                    f"{v['rows']:,}" if v["rows"] is not None else "-",
                    f"{v['distinct_ids']:,}" if v["distinct_ids"] is not None else "-",
                    v["source"],
                    f"{v['source_rows']:,}",
                    "yes" if v["ok"] else "NO",
                ]
                for v in verify
            ],
        )
        + "\n"
    )
    emit(f"Logs: `{env.logs}`\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--s3", action="store_true", help="buckets on a moto server instead of local folders")
    parser.add_argument("--incremental-rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown report here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (pgdata, buckets, logs)")
    args = parser.parse_args(argv)

    out_lines: list[str] = []

    def emit(text: str) -> None:
        print(text, flush=True)
        out_lines.append(text)

    emit("# etl_job benchmark\n")
    emit(
        f"Command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`  \n"
        f"Date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}\n"
    )
    ws = Workspace(keep=args.keep, s3=args.s3)
    emit(f"Work dir: `{ws.root}`{' (kept)' if args.keep else ' (removed at exit)'}\n")

    summaries = []
    for scale in args.scales:
        try:
            summaries.append(bench_scale(ws, scale, args.incremental_rows, args.seed, emit))
        except Exception as exc:  # keep going with the next scale
            emit(f"\n**Scale {scale:g} aborted: {type(exc).__name__}: {exc}**\n")
            summaries.append({"scale": scale, "error": str(exc)})

    emit("\n## Summary\n")
    rows = []
    for s in summaries:
        if "error" in s:
            rows.append([f"{s['scale']:g}", *["-"] * 9, "error"])
            continue
        init, idle, incr = s.get("initial"), s.get("idle"), s.get("incremental")

        def wall(r):
            return "-" if r is None else (fmt_s(r.wall_s) + ("" if r.ok else " (failed)"))

        rows.append(
            [
                f"{s['scale']:g}",
                f"{s['source_rows']:,}",
                fmt_s(s["seed_s"]),
                wall(init),
                *[fmt_s(init.steps.get(st)) if init else "-" for st in STEPS],
                fmt_mb(max((r.peak_rss_mb or 0) for r in (init, idle, incr) if r) or None),
                wall(idle),
                wall(incr),
                "yes" if s["verified"] else "NO",
            ]
        )
    emit(
        table(
            [
                "scale",
                "source rows",
                "seed s",
                "initial etl s",
                "raw s",
                "star s",
                "warehouse s",
                "peak RSS MB",
                "idle rerun s",
                f"incremental ({args.incremental_rows} rows) s",
                "reconciled",
            ],
            rows,
        )
        + "\n"
    )
    emit(
        "Wall times include Dagster process start and code-location load; step times are Dagster's own. "
        "Peak RSS is the maximum resident set of the `dagster job execute` process (GNU time)"
        ", over the three runs.\n"
    )

    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(out_lines))
        print(f"written {args.out}")
    ok = all("error" not in s and s["initial"].ok and s.get("incremental") and s["incremental"].ok for s in summaries)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
