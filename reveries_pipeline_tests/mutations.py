"""Mutation checks: each known way to break a check or a figure must make a named test fail.

    .venv/bin/python -m reveries_pipeline_tests.mutations            # every mutation (a few minutes)
    .venv/bin/python -m reveries_pipeline_tests.mutations --list     # what there is
    .venv/bin/python -m reveries_pipeline_tests.mutations reconciles_with_source primary_key_unique

Each mutation replaces one exact piece of production code (it must occur exactly once), runs the
tests said to catch it, and restores the file byte for byte whatever happens. A mutation whose tests
still pass has *survived*: the command prints it and exits 1. When you add an asset check or a figure
a user reads, add its "always passes" or "always empty" mutation here (see docs/testing.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_W, _P, _I = (
    "reveries_pipeline/warehouse/checks.py",
    "reveries_pipeline/processing/checks.py",
    "reveries_pipeline/ingestion/checks.py",
)
_WT, _PT = "reveries_pipeline_tests/warehouse/test_checks.py", "reveries_pipeline_tests/processing/test_checks.py"


@dataclass(frozen=True)
class Mutation:
    path: str
    old: str
    new: str
    tests: tuple[str, ...]  # pytest node ids, at least one of which must fail


def _always_passes(path: str, condition: str, *tests: str) -> Mutation:
    return Mutation(path, f"passed={condition},", "passed=True,", tests)


MUTATIONS: dict[str, Mutation] = {
    "reconciles_with_source": _always_passes(
        _W, "ours == theirs", f"{_WT}::test_reconciliation_warns_when_the_warehouse_holds_rows_the_source_does_not"
    ),
    "no_orphan_keys": _always_passes(
        _W, "not orphans", f"{_WT}::test_orphan_check_sweeps_a_fact_whose_foreign_keys_were_dropped_and_counts_each_key"
    ),
    "current_matches_history": _always_passes(
        _W,
        "extra == missing == 0",
        f"{_WT}::test_current_table_check_fails_when_a_current_row_is_not_the_newest_version",
    ),
    "fx_rate_for_every_created_date": _always_passes(
        _W,
        "not missing",
        "reveries_pipeline_tests/warehouse/test_fx_coverage.py"
        "::test_fx_coverage_check_warns_naming_each_created_date_without_a_rate",
    ),
    "primary_key_unique": _always_passes(
        _P, "dupes.height == 0", f"{_PT}::test_a_dimension_key_emitted_twice_fails_primary_key_unique"
    ),
    "currency_codes_known": _always_passes(
        _P, "not unknown_codes", f"{_PT}::test_unknown_currency_codes_warn_naming_each_code_once"
    ),
    "no_rejected_rows": _always_passes(
        _P,
        "mine.height == 0",
        "reveries_pipeline_tests/hostile/test_untrusted_metadata.py::test_hostile_reject_through_the_pipeline_and_its_alert",
    ),
    "no_held_back_facts": _always_passes(
        _P,
        "held.height == 0",
        "reveries_pipeline_tests/processing/test_assets.py::test_fact_with_an_unknown_dimension_key_is_held_back_until_the_key_arrives",
    ),
    "no_future_dated_rows": _always_passes(
        _I,
        "not future",
        "reveries_pipeline_tests/hostile/test_bad_source_values.py::test_a_row_dated_2999_neither_hides_later_changes_nor_comes_twice",
    ),
    "top_designs_empty": Mutation(
        "reveries_pipeline/warehouse/report.py",
        "return conn.execute(TOP_DESIGNS_SQL).fetchall()",
        "return []",
        ("reveries_pipeline_tests/warehouse/test_report.py",),
    ),
    # the dashboard's pre-aggregates, kept by difference: a load that overwrote instead of adding
    "pre_aggregates_overwritten": Mutation(
        "reveries_pipeline/warehouse/reporting.py",
        'sql.SQL("{0} = {1}.{0} + EXCLUDED.{0}")',
        'sql.SQL("{0} = EXCLUDED.{0} + 0 * {1}.{0}")',
        ("reveries_pipeline_tests/warehouse/test_reporting.py",),
    ),
}


def run_mutation(name: str, basetemp: Path) -> tuple[bool, str]:
    """(caught, pytest's last line): apply `name`, run its tests, restore the file exactly."""
    mutation = MUTATIONS[name]
    path = ROOT / mutation.path
    original = path.read_bytes()
    text = original.decode()
    if text.count(mutation.old) != 1:
        raise SystemExit(f"{name}: {mutation.old!r} must occur exactly once in {mutation.path}: update this registry")
    try:
        path.write_text(text.replace(mutation.old, mutation.new))
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={basetemp}", "-x"]
        done = subprocess.run([*argv, *mutation.tests], cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    finally:
        path.write_bytes(original)
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return done.returncode != 0, last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and the tests that must catch them")
    args = parser.parse_args(argv)
    if args.list:
        for name, m in MUTATIONS.items():
            print(f"{name}: {m.path}: {m.old!r} -> {m.new!r}\n    caught by {', '.join(m.tests)}")
        return 0
    unknown = [n for n in args.names if n not in MUTATIONS]
    if unknown:
        parser.error(f"unknown mutation(s) {unknown}; --list shows them")
    survivors = []
    with tempfile.TemporaryDirectory(prefix="reveries-mutations-") as tmp:
        for name in args.names or MUTATIONS:
            caught, last = run_mutation(name, Path(tmp) / name)
            print(f"{'caught  ' if caught else 'SURVIVED'} {name}: {last}", flush=True)
            survivors += [] if caught else [name]
    if survivors:
        print(f"{len(survivors)} mutation(s) survived: {', '.join(survivors)}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
