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
from its STEP_START and STEP_SUCCESS events, the rest between steps), events before RUN_START or
after RUN_SUCCESS, and after the last event (exit). Process start and code-location load are timed
on their own between the runs: `python -c pass`, then, timed inside one process, `import dagster`
and `import reveries_pipeline.definitions`. Instance-storage writes are the run's events
priced at per-event costs measured here on the same kind of instance - a job whose one op reports N
asset observations (or N log lines), minus the same job reporting none - asset events (Dagster
indexes them per asset) at the first price, the others at the second.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from dagster import AssetObservation, DagsterInstance, job, op

from benchmarks.job_runs import TimedRun, run_timed
from benchmarks.process_tree import run_sampled
from benchmarks.report import Report, fmt_s, table
from benchmarks.scale_world import Workspace, bench_parser
from reveries_pipeline_tests.faults.harness import PROJECT_ROOT

RUNNERS = {"reveries": "`reveries run` (in-process, ephemeral instance)", "dagster": "`dagster job execute` (SQLite)"}
STEPS = ("raw_totesys_tables", "star_schema_tables", "warehouse_tables")
EVENTS_PER_PROBE = 300
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}  # the probe's console stays quiet


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# Events Dagster also indexes per asset (its asset tables): dearer to store than the others.
ASSET_EVENTS = {
    "ASSET_MATERIALIZATION",
    "ASSET_MATERIALIZATION_PLANNED",
    "ASSET_CHECK_EVALUATION",
    "ASSET_CHECK_EVALUATION_PLANNED",
    "ASSET_OBSERVATION",
}
# Timed inside the process, so neither the interpreter's start nor its exit is in them.
IMPORTS = (
    "import time; t0 = time.perf_counter(); import dagster; t1 = time.perf_counter(); "
    "import reveries_pipeline.definitions; print(t1 - t0, time.perf_counter() - t1)"
)


def sample_start_costs(samples: dict[str, list[float]]) -> None:
    """One more sample of each start cost: the interpreter alone (`python -c pass`, start to exit),
    importing Dagster, then importing the code location with Dagster already imported."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # noqa: S603 - fixed argv
    samples.setdefault("python start and exit", []).append(time.perf_counter() - started)
    out = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", IMPORTS], cwd=PROJECT_ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    samples.setdefault("import dagster", []).append(float(out[-2]))
    samples.setdefault("import reveries_pipeline.definitions", []).append(float(out[-1]))


@op(config_schema={"events": int, "asset": bool})
def observe(context) -> None:
    for i in range(context.op_config["events"]):
        if context.op_config["asset"]:
            context.log_event(AssetObservation(asset_key="probe", metadata={"i": i}))
        else:
            context.log.info(f"probe {i}")


@job
def event_probe():
    observe()


def _probe_seconds(instance: DagsterInstance, events: int, asset: bool) -> float:
    config = {**QUIET, "ops": {"observe": {"config": {"events": events, "asset": asset}}}}
    started = time.perf_counter()
    event_probe.execute_in_process(instance=instance, run_config=config)
    return time.perf_counter() - started


def per_event_seconds(instance: DagsterInstance, repeats: int, asset: bool) -> float:
    """What one more event (an asset observation, or a log line) costs a run on `instance`: a run with
    EVENTS_PER_PROBE of them minus one with none, over EVENTS_PER_PROBE (median of `repeats`)."""
    _probe_seconds(instance, 1, asset)  # warm-up: the first run creates the storage's tables
    pairs = [
        (_probe_seconds(instance, EVENTS_PER_PROBE, asset), _probe_seconds(instance, 0, asset)) for _ in range(repeats)
    ]
    return statistics.median((full - empty) / EVENTS_PER_PROBE for full, empty in pairs)


def event_costs(repeats: int) -> dict[str, dict[str, float]]:
    """Per runner's kind of instance: seconds per asset event and per other event."""
    with tempfile.TemporaryDirectory() as home, DagsterInstance.local_temp(tempdir=home) as sqlite:
        instances = {"reveries": DagsterInstance.ephemeral(), "dagster": sqlite}
        return {
            name: {kind: per_event_seconds(instance, repeats, kind == "asset") for kind in ("asset", "other")}
            for name, instance in instances.items()
        }


def storage_seconds(events: dict[str, int], cost: dict[str, float]) -> float:
    """The run's events priced at the per-event costs measured on its kind of instance."""
    asset = sum(n for kind, n in events.items() if kind in ASSET_EVENTS)
    return asset * cost["asset"] + (sum(events.values()) - asset) * cost["other"]


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
        "first event -> RUN_START": p["run_start"] - first if first and p.get("run_start") else None,
        "RUN_SUCCESS -> last event": last - p["run_end"] if last and p.get("run_end") else None,
        "after the last event": run.started_at + run.wall_s - last if last else None,
        "events": sum(run.events.values()),
    }


@dataclass
class IdleSamples:
    runs: dict[str, list[TimedRun]] = field(default_factory=lambda: {name: [] for name in RUNNERS})
    cli_walls: list[float] = field(default_factory=list)  # `reveries run` itself
    starts: dict[str, list[float]] = field(default_factory=dict)  # sample_start_costs' samples


def idle_runs(env, repeats: int) -> IdleSamples:
    """`repeats` idle runs per runner, alternating, after one warm-up each (the SQLite instance's
    tables are created by the first); between them as many idle `reveries run` walls (its summary
    included) and start-command samples, so the machine's load falls on all of them alike."""
    samples = IdleSamples()
    for i in range(repeats + 1):
        for name in RUNNERS:
            run = run_timed(env.world, "etl_job", name, env.logs / f"idle-{name}-{i}.log", log_level="INFO")
            if not run.ok:
                raise RuntimeError(f"idle {name} run failed:\n{run.tail()}")
            if i:  # the first of each is the warm-up
                samples.runs[name].append(run)
        if i:
            samples.cli_walls.append(run_timed_cli(env, env.logs / f"idle-cli-{i}.log"))
            sample_start_costs(samples.starts)
    return samples


def run_timed_cli(env, log_path) -> float:
    """The wall time of `reveries run` itself (etl_job, then its warehouse summary)."""
    # the CLI as a module, so it imports the code of the folder it runs from, as every other run here
    process, _ = run_sampled([sys.executable, "-m", "reveries_pipeline.cli", "run"], env.world.env(), log_path)
    if not process.ok:
        raise RuntimeError(f"reveries run failed:\n{process.tail()}")
    return process.seconds


def breakdown_rows(samples: IdleSamples, per_event: dict) -> list[list]:
    """The fixed-cost table: one column per runner, medians over its idle runs."""
    med = {name: {k: median(split(r)[k] for r in rs) for k in split(rs[0])} for name, rs in samples.runs.items()}
    stored = {name: median(storage_seconds(r.events, per_event[name]) for r in rs) for name, rs in samples.runs.items()}
    starts = {name: median(walls) for name, walls in samples.starts.items()}
    start = starts["python start and exit"] + starts["import dagster"]
    location = starts["import reveries_pipeline.definitions"]

    def row(label: str, value) -> list[str]:
        return [label, *[value(name) for name in RUNNERS]]

    def seconds(key: str):
        return lambda name: fmt_s(med[name][key])

    rows = [
        row("wall (process start to exit)", seconds("wall")),
        row("before the first event", seconds("before the first event")),
        row("- of which Python start and `import dagster`", lambda n: fmt_s(start)),
        row("- of which code-location load (`import reveries_pipeline.definitions`)", lambda n: fmt_s(location)),
        row(
            "- of which the rest (CLI, instance, job, run creation)",
            lambda n: fmt_s(med[n]["before the first event"] - start - location),
        ),
        row("run start -> end", seconds("run start -> end")),
        *[row(f"- step {step}", seconds(step)) for step in STEPS],
        row("- between steps (resources, plan, run events)", seconds("between steps")),
        row("first event -> RUN_START", seconds("first event -> RUN_START")),
        row("RUN_SUCCESS -> last event", seconds("RUN_SUCCESS -> last event")),
        row("after the last event (exit)", seconds("after the last event")),
        row("events written (median)", lambda n: f"{med[n]['events']:.0f}"),
        row(
            "ms per asset event / per other event (measured on this kind of instance)",
            lambda n: f"{per_event[n]['asset'] * 1000:.1f} / {per_event[n]['other'] * 1000:.1f}",
        ),
        row("instance-storage writes (events x per-event, spread over the rows above)", lambda n: fmt_s(stored[n])),
    ]
    rows.append(["`reveries run` itself (with its warehouse summary), wall", fmt_s(median(samples.cli_walls)), "-"])
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
    samples = idle_runs(env, repeats)
    per_event = event_costs(repeats)
    report.emit(f"## Where an idle run's seconds go (median of {repeats} idle runs per runner, alternating)\n")
    headers = ["", *RUNNERS.values()]
    report.emit(table(headers, breakdown_rows(samples, per_event)) + "\n")
    starts = ", ".join(f"`{k}` {median(v):.2f} s" for k, v in samples.starts.items())
    report.emit(f"Start commands on their own (median of {repeats}, between the runs): {starts}\n")
    report.emit("## Events of one idle run, by kind\n")
    report.emit(table(["event", *RUNNERS], events_rows(samples.runs)) + "\n")
    report.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
