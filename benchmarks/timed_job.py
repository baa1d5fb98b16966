"""One job in this process on an ephemeral Dagster instance, as `reveries run` executes it (without the
warehouse summary `reveries run` prints afterwards), then its profile (step times, start-to-end time,
events by kind: step_times.run_profile), read from that instance's event log, written as JSON for the
benchmark that started it.

    .venv/bin/python -m benchmarks.timed_job --profile run.json --job etl_job

Why not `reveries run` itself: its instance lives in memory and is gone when it exits, and recording
the run in a persistent instance instead (SQLite or PostgreSQL) costs a few ms per event, ~300 events
a run: the steps would be timed with that cost in them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.step_times import run_profile


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", required=True, help="the job to run, e.g. etl_job or ingestion_job")
    parser.add_argument(
        "--profile", type=Path, required=True, help="JSON file written: {steps, run_s, first_event, last_event, events}"
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default="DEBUG",
        help="the console log level (default DEBUG: Dagster's own events too, for the run's log file)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from dagster import DagsterInstance

    from reveries_pipeline.definitions import defs

    instance = DagsterInstance.ephemeral()
    started = time.perf_counter()
    run_config = {"loggers": {"console": {"config": {"log_level": args.log_level}}}}
    result = defs.resolve_job_def(args.job).execute_in_process(
        instance=instance, run_config=run_config, raise_on_error=False
    )
    outcome = "succeeded" if result.success else "failed"
    print(f"{args.job} {outcome} in {time.perf_counter() - started:.1f}s (run {result.run_id})", file=sys.stderr)
    args.profile.write_text(json.dumps(run_profile(instance, result.run_id)))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
