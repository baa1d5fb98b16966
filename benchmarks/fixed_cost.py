"""Where an idle etl_job run's seconds go, for both ways of running it from a shell.

    .venv/bin/python -m benchmarks.fixed_cost [--scale 1] [--repeats 3] [--out benchmarks/results/fixed-cost.md]

One scale (scale_world.py) is seeded and loaded once; then idle runs (nothing changed at the source)
alternate between the two runners (job_runs.py), so the machine's load falls on both alike:
- reveries: the job in one process on an ephemeral (in-memory) instance, logging at INFO as
  `reveries run` does (timed_job.py; `reveries run` itself is timed too, wall only: its warehouse
  summary comes on top);
- dagster: `dagster job execute` on a SQLite instance, Dagster's default console logging (DEBUG).

Each run's wall time is split with its own event log (step_times.run_profile): before the first event
(process start, imports, code-location load, instance and run creation), run start to end (each step
from its STEP_START and STEP_SUCCESS events, the rest between steps) and after the last event (exit).
Process start and code-location load are timed on their own: `python -c "import dagster"` (or
`dagster --version`), then `python -c "import reveries_pipeline.definitions"`. Instance-storage writes
are the run's events times a per-event cost measured here on the same kind of instance: a job whose
one op reports N asset observations, minus the same job reporting none.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

from dagster import AssetObservation, DagsterInstance, job, op

from benchmarks.job_runs import TimedRun, run_timed
from benchmarks.process_tree import run_sampled
from benchmarks.report import Report, fmt_s, table
from benchmarks.scale_world import Workspace, bench_parser
from reveries_pipeline_tests.faults.harness import BIN, PROJECT_ROOT

RUNNERS = {"reveries": "`reveries run` (in-process, ephemeral instance)", "dagster": "`dagster job execute` (SQLite)"}
STEPS = ("raw_totesys_tables", "star_schema_tables", "warehouse_tables")
EVENTS_PER_PROBE = 300
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}  # the probe's console stays quiet


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def command_seconds(argv: list[str], repeats: int) -> float:
    """Median wall time of a short command, from the project folder."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(argv, cwd=PROJECT_ROOT, check=True, capture_output=True)  # noqa: S603 - fixed argv
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def start_costs(repeats: int) -> dict[str, float]:
    """Python alone, Python with Dagster imported, the dagster CLI, and the code location imported."""
    py = [sys.executable, "-c"]
    return {
        "python": command_seconds([*py, "pass"], repeats),
        "import dagster": command_seconds([*py, "import dagster"], repeats),
        "dagster --version": command_seconds([str(BIN / "dagster"), "--version"], repeats),
        "code location": command_seconds([*py, "import reveries_pipeline.definitions"], repeats),
    }


@op(config_schema={"events": int})
def observe(context) -> None:
    for i in range(context.op_config["events"]):
        context.log_event(AssetObservation(asset_key="probe", metadata={"i": i}))


@job
def event_probe():
    observe()


def _probe_seconds(instance: DagsterInstance, events: int) -> float:
    config = {**QUIET, "ops": {"observe": {"config": {"events": events}}}}
    started = time.perf_counter()
    event_probe.execute_in_process(instance=instance, run_config=config)
    return time.perf_counter() - started


def per_event_seconds(instance: DagsterInstance, repeats: int) -> float:
    """What one more event costs a run on `instance`: a run with EVENTS_PER_PROBE events minus one
    with none, over EVENTS_PER_PROBE (median of `repeats`)."""
    _probe_seconds(instance, 1)  # warm-up: the first run creates the storage's tables
    pairs = [(_probe_seconds(instance, EVENTS_PER_PROBE), _probe_seconds(instance, 0)) for _ in range(repeats)]
    return statistics.median((full - empty) / EVENTS_PER_PROBE for full, empty in pairs)


def event_costs(repeats: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home, DagsterInstance.local_temp(tempdir=home) as sqlite:
        return {
            "reveries": per_event_seconds(DagsterInstance.ephemeral(), repeats),
            "dagster": per_event_seconds(sqlite, repeats),
        }


def split(run: TimedRun) -> dict[str, float | None]:
    """One run's wall time by what its event log says happened when."""
    p = run.profile
    first, last = p.get("first_event"), p.get("last_event")
    steps = {s: run.steps.get(s) for s in STEPS}
    run_s = p.get("run_s")
    return {
        "wall": run.wall_s,
        "before the first event": first - run.started_at if first else None,
        "run start -> end": run_s,
        **steps,
        "between steps": run_s - sum(v or 0 for v in steps.values()) if run_s is not None else None,
        "after the last event": run.started_at + run.wall_s - last if last else None,
        "events": sum(run.events.values()),
    }


def idle_runs(env, repeats: int) -> tuple[dict[str, list[TimedRun]], list[float]]:
    """`repeats` idle runs per runner, alternating, after one warm-up each (the SQLite instance's
    tables are created by the first); and as many idle `reveries run` walls (its summary included)."""
    runs: dict[str, list[TimedRun]] = {name: [] for name in RUNNERS}
    cli_walls: list[float] = []
    for i in range(repeats + 1):
        for name in RUNNERS:
            run = run_timed(env.world, "etl_job", name, env.logs / f"idle-{name}-{i}.log", log_level="INFO")
            if not run.ok:
                raise RuntimeError(f"idle {name} run failed:\n{run.tail()}")
            if i:  # the first of each is the warm-up
                runs[name].append(run)
        if i:
            cli_walls.append(run_timed_cli(env, env.logs / f"idle-cli-{i}.log"))
    return runs, cli_walls


def run_timed_cli(env, log_path) -> float:
    """The wall time of `reveries run` itself (etl_job, then its warehouse summary)."""
    # the CLI as a module, so it imports the code of the folder it runs from, as every other run here
    process, _ = run_sampled([sys.executable, "-m", "reveries_pipeline.cli", "run"], env.world.env(), log_path)
    if not process.ok:
        raise RuntimeError(f"reveries run failed:\n{process.tail()}")
    return process.seconds


def breakdown_rows(runs: dict[str, list[TimedRun]], starts: dict, per_event: dict, cli_wall: float) -> list[list]:
    """The fixed-cost table: one column per runner, medians over its idle runs."""
    med = {name: {k: median(split(r)[k] for r in rs) for k in split(rs[0])} for name, rs in runs.items()}
    start = {"reveries": starts["import dagster"], "dagster": starts["dagster --version"]}
    location = starts["code location"] - starts["import dagster"]

    def row(label: str, value) -> list[str]:
        return [label, *[value(name) for name in RUNNERS]]

    def seconds(key: str):
        return lambda name: fmt_s(med[name][key])

    rows = [
        row("wall (process start to exit)", seconds("wall")),
        row("before the first event", seconds("before the first event")),
        row("- of which Python start and imports", lambda n: fmt_s(start[n])),
        row("- of which code-location load", lambda n: fmt_s(location)),
        row(
            "- of which the rest (instance, job, run creation)",
            lambda n: fmt_s(med[n]["before the first event"] - start[n] - location),
        ),
        row("run start -> end", seconds("run start -> end")),
        *[row(f"- step {step}", seconds(step)) for step in STEPS],
        row("- between steps (resources, plan, run events)", seconds("between steps")),
        row("after the last event (exit)", seconds("after the last event")),
        row("events written (median)", lambda n: f"{med[n]['events']:.0f}"),
        row("ms per event (measured on this kind of instance)", lambda n: f"{per_event[n] * 1000:.1f}"),
        row(
            "instance-storage writes (events x per-event, within the run)",
            lambda n: fmt_s(med[n]["events"] * per_event[n]),
        ),
    ]
    rows.append(["`reveries run` itself (with its warehouse summary), wall", fmt_s(cli_wall), "-"])
    return rows


def events_rows(runs: dict[str, list[TimedRun]]) -> list[list[str]]:
    """One idle run's events by kind, per runner."""
    counts = {name: rs[0].events for name, rs in runs.items()}
    kinds = sorted({k for c in counts.values() for k in c}, key=lambda k: -max(c.get(k, 0) for c in counts.values()))
    return [[kind, *[str(counts[name].get(kind, 0)) for name in RUNNERS]] for kind in kinds]


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, default_scales=(1.0,))
    parser.add_argument("--repeats", type=int, default=3, help="idle runs per runner (default 3)")
    args = parser.parse_args(argv)
    repeats = args.repeats
    report = Report("Fixed cost of an idle etl_job run")
    env = Workspace(keep=args.keep).scale(args.scales[0])
    seed_s, counts = env.seed(args.seed)
    report.emit(f"Scale {args.scales[0]:g}: {sum(counts.values()):,} source rows, seeded in {seed_s:.1f} s\n")
    initial = env.run_job("etl_job", "initial")
    if not initial.ok:
        report.emit(f"initial load failed:\n```\n{initial.tail()}\n```\n")
        return 1
    runs, cli_walls = idle_runs(env, repeats)
    starts, per_event = start_costs(repeats), event_costs(repeats)
    report.emit(f"## Where an idle run's seconds go (median of {repeats} idle runs per runner, alternating)\n")
    headers = ["", *RUNNERS.values()]
    report.emit(table(headers, breakdown_rows(runs, starts, per_event, median(cli_walls))) + "\n")
    report.emit(
        f"Start costs on their own (median of {repeats}): "
        + ", ".join(f"`{k}` {v:.2f} s" for k, v in starts.items())
        + "\n"
    )
    report.emit("## Events of one idle run, by kind\n")
    report.emit(table(["event", *RUNNERS], events_rows(runs)) + "\n")
    report.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
