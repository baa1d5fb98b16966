"""Benchmark the whole chain (etl_job) at several totesys scales, against the floor.

    .venv/bin/python -m benchmarks.bench_etl --scales 1 10 100 [--s3] [--incremental-rows 1000] \
        [--out benchmarks/results/etl.md]

For each scale: a fresh embedded PostgreSQL (totesys_<scale>, warehouse_<scale>), seed_totesys(seed=42),
fresh buckets (local folders, or moto S3 with --s3), then three etl_job runs, each in its own process
(see --runner) - initial, idle rerun (no source change), incremental (N changed rows: N/2 sales_order
units_sold+1 and N/2 payment paid=true, all with last_updated=now()) - timing wall clock, per-step
durations (from the run's STEP_START and STEP_SUCCESS events in Dagster's event log) and the peak RSS
of the run's process tree (process_tree.py). Between the initial and the idle run the floor (floor.py:
the same data moved with nothing else) loads its own warehouse from the same source, in its own
process, and its star rows are compared with what the initial load wrote. Finally each fact table is
reconciled against its source table by the warehouse's own `reconciles_with_source` check.
"""

from __future__ import annotations

import sys

from benchmarks.job_runs import TimedRun
from benchmarks.report import Report, failure_report, fmt_mb, fmt_s, fmt_wall, table
from benchmarks.scale_world import FloorRun, ScaleWorld, Workspace, parse_bench_args

STEPS = ("raw_totesys_tables", "star_schema_tables", "warehouse_tables")
RUN_HEADERS = ["run", "exit", "wall s", *[f"{s} s" for s in STEPS], "peak RSS MB"]
RECONCILIATION_HEADERS = [
    "fact table",
    "rows (all versions)",
    "distinct natural ids",
    "source table",
    "source rows",
    "match",
]
SUMMARY_NOTE = (
    "Wall times include Dagster process start and code-location load; step times are Dagster's own "
    "(its event log). Peak RSS is the highest sum of the resident sets of the run's process tree (the "
    "job's process and every child, sampled every 50 ms), over the three runs. The floor is the same data "
    "moved with nothing else (benchmarks/floor.py), run after the initial load on the same source, in its own "
    "process; floor s is its export, model and load phases (its process start left out, as the pipeline's "
    "is in a long-lived deployment). initial / floor is the initial load's wall time over it (the issue's "
    "ratio), steps / floor its three steps' total over it.\n"
)


def run_row(label: str, r: TimedRun) -> list[str]:
    return [
        label,
        str(r.returncode),
        fmt_s(r.wall_s),
        *[fmt_s(r.steps.get(s)) for s in STEPS],
        fmt_mb(r.peak_rss_mb),
    ]


def run_etl_jobs(env: ScaleWorld, n_changes: int, summary: dict, emit) -> None:
    """The initial run and, when it succeeds, an idle rerun and an incremental run after n_changes
    source rows changed. Each result goes into summary under its run name; emits the runs' table."""
    rows, failures = [], []

    def run(name: str, label: str) -> TimedRun:
        result = env.run_job("etl_job", name)
        rows.append(run_row(label, result))
        summary[name] = result
        if not result.ok:
            failures.append(result)
        return result

    if run("initial", "initial").ok:
        run_floor(env, summary, emit)
        run("idle", "idle rerun")
        changed = summary["changed"] = env.apply_changes(n_changes)
        run("incremental", f"incremental ({sum(changed.values()):,} rows)")
    emit(table(RUN_HEADERS, rows) + "\n")
    if "changed" in summary:
        emit(f"Changed rows: {', '.join(f'{t}={n:,}' for t, n in summary['changed'].items())}\n")
    for f in failures:
        emit(failure_report(f))


def run_floor(env: ScaleWorld, summary: dict, emit) -> None:
    """The floor on the same source, and whether its star rows are the initial load's."""
    floor = summary["floor"] = env.run_floor()
    if not floor.ok:
        emit(f"**floor failed (exit {floor.process.returncode}); log tail:**\n\n```\n{floor.process.tail(40)}\n```\n")
        return
    r = floor.result
    summary["floor_matches"] = r["star_rows"] == env.star_rows()
    emit(
        f"Floor: {floor.wall_s:.2f} s wall (export {r['export_s']:.2f} s, model {r['model_s']:.2f} s, "
        f"load {r['load_s']:.2f} s), peak RSS {fmt_mb(floor.peak_rss_mb)} MB; "
        f"{sum(r['star_rows'].values()):,} star rows, the initial load's: "
        f"{'yes' if summary['floor_matches'] else 'NO'}\n"
    )


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def reconciliation_row(v: dict) -> list[str]:
    return [
        v["fact"],
        _count(v["rows"]),
        _count(v["distinct_ids"]),
        v["source"],
        _count(v["source_rows"]),
        "yes" if v["ok"] else "NO",
    ]


def reconcile_warehouse(env: ScaleWorld, summary: dict, emit) -> None:
    """Compare each fact table's current natural ids with its source table's rows."""
    verify = env.reconcile()
    summary["verified"] = all(v["ok"] for v in verify)
    emit("Warehouse reconciliation (after the last run):\n")
    emit(table(RECONCILIATION_HEADERS, [reconciliation_row(v) for v in verify]) + "\n")


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
    buckets = "moto S3" if ws.s3_endpoint else "local folders"
    emit(f"Buckets: {buckets} (`{env.ingestion_url}`, `{env.processed_url}`)\n")
    run_etl_jobs(env, n_changes, summary, emit)
    reconcile_warehouse(env, summary, emit)
    emit(f"Logs: `{env.logs}`\n")
    return summary


def bench_scale_or_error(ws: Workspace, scale: float, n_changes: int, seed: int, emit) -> dict:
    try:
        return bench_scale(ws, scale, n_changes, seed, emit)
    except Exception as exc:  # keep going with the next scale
        emit(f"\n**Scale {scale:g} aborted: {type(exc).__name__}: {exc}**\n")
        return {"scale": scale, "error": str(exc)}


def summary_headers(incremental_rows: int) -> list[str]:
    return [
        "scale",
        "source rows",
        "seed s",
        "floor s",
        "initial etl s",
        "initial / floor",
        "steps / floor",
        "raw s",
        "star s",
        "warehouse s",
        "peak RSS MB",
        "floor peak RSS MB",
        "idle rerun s",
        f"incremental ({incremental_rows} rows) s",
        "reconciled",
        "floor rows = initial's",
    ]


def floor_ratios(initial, floor: FloorRun | None) -> list[str]:
    """The initial load's wall time, then its steps' total, over the floor's time moving data."""
    if initial is None or not initial.ok or floor is None or not floor.ok:
        return ["-", "-"]
    moved = floor.result["total_s"]
    return [f"{initial.wall_s / moved:.2f}x", f"{sum(initial.steps.values()) / moved:.2f}x"]


def summary_row(s: dict) -> list[str]:
    if "error" in s:
        return [f"{s['scale']:g}", *["-"] * 14, "error"]
    init, idle, incr, floor = s.get("initial"), s.get("idle"), s.get("incremental"), s.get("floor")
    return [
        f"{s['scale']:g}",
        f"{s['source_rows']:,}",
        fmt_s(s["seed_s"]),
        fmt_s(floor.result["total_s"]) if floor and floor.ok else "-",
        fmt_wall(init),
        *floor_ratios(init, floor),
        *[fmt_s(init.steps.get(st)) if init else "-" for st in STEPS],
        fmt_mb(max((r.peak_rss_mb or 0) for r in (init, idle, incr) if r) or None),
        fmt_mb(floor.peak_rss_mb) if floor else "-",
        fmt_wall(idle),
        fmt_wall(incr),
        "yes" if s["verified"] else "NO",
        {True: "yes", False: "NO"}.get(s.get("floor_matches"), "-"),
    ]


def all_ok(summaries: list[dict]) -> bool:
    """Every scale ran to the end, with a successful initial and incremental run."""
    return all(
        "error" not in s and s["initial"].ok and s.get("incremental") and s["incremental"].ok and s.get("floor_matches")
        for s in summaries
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_bench_args(__doc__, argv)
    report = Report("etl_job benchmark")
    ws = Workspace(keep=args.keep, s3=args.s3, runner=args.runner)
    report.emit(f"Work dir: `{ws.root}`{' (kept)' if args.keep else ' (removed at exit)'}\n")
    summaries = [
        bench_scale_or_error(ws, scale, args.incremental_rows, args.seed, report.emit) for scale in args.scales
    ]
    report.emit("\n## Summary\n")
    report.emit(table(summary_headers(args.incremental_rows), [summary_row(s) for s in summaries]) + "\n")
    report.emit(SUMMARY_NOTE)
    report.save(args.out)
    return 0 if all_ok(summaries) else 1


if __name__ == "__main__":
    sys.exit(main())
