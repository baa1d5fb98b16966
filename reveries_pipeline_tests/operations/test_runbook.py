"""The runbook works by copy-paste: every `reveries` command in a bash block of docs/runbook.md is run
verbatim against a loaded world, and has the effect the runbook says.

The one substitution, each value shell-quoted (the runbook's example values stand for the operator's):

    s3://my-ingestion-bucket                                          -> the world's ingestion bucket URL
    sales_order/2026/11/27/sales_order-20261127T101500123Z.parquet   -> the sales_order raw batch the case corrupted

Nothing else in a command changes. Each runs in bash from the project folder, with the world's
environment and the virtualenv's bin on PATH, and with no terminal unless its section's case types an
answer. The commands of a section run in order, each must exit 0, and then the case checks the effect.
A new section with `reveries` commands fails `test_every_runbook_command_is_run` until it has a case.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from reveries_pipeline.resources.object_errors import UnreadableObjectError
from reveries_pipeline_tests.faults.harness import newest_key, truncate_object
from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source
from reveries_pipeline_tests.shell import PROJECT_ROOT, paste
from reveries_pipeline_tests.support import lake_keys

RUNBOOK = PROJECT_ROOT / "docs" / "runbook.md"
EXAMPLE_BUCKET = "s3://my-ingestion-bucket"
EXAMPLE_KEY = "sales_order/2026/11/27/sales_order-20261127T101500123Z.parquet"
_RUNS_REVERIES = re.compile(r"(?:^|&&|;|\|)\s*(?:\S*/)?reveries\s")
_RUNS_DAGSTER = re.compile(r"^\s*(?:\S*/)?dagster\s")
_NAMED_YAML = re.compile(r"```yaml\n# (\S+\.yaml)\n(.*?)```", re.DOTALL)


def runbook_commands(runs: re.Pattern = _RUNS_REVERIES) -> dict[str, list[str]]:
    """{section heading: its bash blocks' command lines that run `reveries` (or what `runs` matches)},
    continuation lines joined."""
    commands: dict[str, list[str]] = {}
    section, block, pending = "", False, ""
    for line in RUNBOOK.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("```"):
            block = line.strip() == "```bash"
        elif block:
            pending += line
            if pending.endswith("\\"):
                pending = pending[:-1]
                continue
            if runs.search(pending):
                commands.setdefault(section, []).append(pending)
            pending = ""
    return commands


@dataclass
class Case:
    """What a section's commands need first (returns what the check needs, and the corrupted `key` if
    any), what the operator types at the terminal (None: no terminal), and the effect to check."""

    prepare: Callable
    check: Callable
    typed: str | None = None


def _source_changed_and_captured(world) -> dict:
    world.change_source()
    assert world.run("ingestion_job").ok
    return {}


def _raw_keys(world) -> set[str]:
    return set(lake_keys(world.ingestion, "sales_order/"))


def _prepare_launch(world) -> dict:
    world.change_source()
    return {"before": _raw_keys(world)}


def _check_launch(world, state, outputs) -> None:
    assert _raw_keys(world) > state["before"]  # the change was captured as a new raw batch


def _processed_keys(world) -> set[str]:
    return set(lake_keys(world.processed, "fact_sales_order/"))


def _prepare_rebuild(world) -> dict:
    return {"before": _processed_keys(world)}


def _check_rebuild(world, state, outputs) -> None:
    assert "Continue?" in outputs[0]  # it asked first
    after = _processed_keys(world)
    assert after and not after & state["before"]  # every processed batch was written again
    assert_warehouse_matches_source(world)  # and reloaded


def _check_caught_up(world, state, outputs) -> None:
    assert_warehouse_matches_source(world)


def _prepare_corrupt_object(world) -> dict:
    world.change_source()  # captured by the `reveries run` after the quarantine, with the recapture
    key = newest_key(world.ingestion, "sales_order/")
    truncate_object(world.ingestion, key)
    return {"key": key}


def _check_quarantined(world, state, outputs) -> None:
    key = state["key"]
    assert world.ingestion.get_bytes(key) is None
    assert world.ingestion.get_bytes(f"_quarantine/{key}") is not None
    assert "truncated upload" in world.ingestion.get_bytes(f"_quarantine/{key}.json").decode()
    assert key in outputs[-1]  # --list names it
    assert_warehouse_matches_source(world)  # the recapture brought its rows back


def _prepare_resnapshot(world) -> dict:
    return {"batches": len(_raw_keys(world))}


def _check_resnapshot(world, state, outputs) -> None:
    from reveries_pipeline_tests.ingestion.raw_lake import read_batch

    newest = sorted(_raw_keys(world))[-1]
    assert len(_raw_keys(world)) == state["batches"] + 1
    (orders,) = world.source("SELECT count(*) FROM sales_order")[0]
    assert read_batch(world.ingestion, newest).height == orders  # a full snapshot
    assert_warehouse_matches_source(world)  # absorbed: no version twice, nothing lost


def _prepare_lost_slot(world) -> dict:
    from reveries_pipeline.ingestion.capture_mode import TotesysCapture
    from reveries_pipeline_tests.pipeline_harness import Pipeline

    world.extra_env["TOTESYS_CAPTURE"] = "logical"
    # the first logical run (in process) creates the slot `reveries` and snapshots every table
    logical = TotesysCapture(mode="logical")
    assert Pipeline(world.totesys_dsn, world.warehouse_dsn, world.ingestion, world.processed, logical).etl().success
    world.source("SELECT pg_drop_replication_slot('reveries')")
    world.change_source()
    failed = world.run("etl_job")
    assert not failed.ok and "replication slot 'reveries' does not exist on the source" in failed.output
    # the error prints the runbook's line, which the case then runs as pasted
    assert "reveries totesys drop-cdc --apply --yes && reveries resnapshot --all && reveries run" in failed.output
    return {}


def _check_lost_slot_recovered(world, state, outputs) -> None:
    from reveries_pipeline.ingestion.logical import drop_sql

    try:
        assert world.source("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'reveries'") == [(1,)]
        assert_warehouse_matches_source(world)  # the changes made while the slot was gone are in
    finally:  # a database with a slot can't be dropped: the world's teardown needs it gone
        world.source(drop_sql())


CASES = {
    "Ground rules": Case(_prepare_launch, _check_launch),
    "Rebuild the processed bucket and the warehouse from the lake": Case(_prepare_rebuild, _check_rebuild, "y\n"),
    "Reset one table's checkpoint (re-snapshot a table)": Case(_prepare_resnapshot, _check_resnapshot),
    "Catch up after an outage": Case(_source_changed_and_captured, _check_caught_up),
    "A lost replication slot (logical mode)": Case(_prepare_lost_slot, _check_lost_slot_recovered),
    "A corrupt object": Case(_prepare_corrupt_object, _check_quarantined),
}


def test_every_runbook_command_is_run():
    commands = runbook_commands()
    assert set(commands) == set(CASES), "a runbook section with reveries commands needs a case here"
    assert sum(map(len, commands.values())) >= 6


def _substitute(command: str, world, key: str | None) -> str:
    command = command.replace(EXAMPLE_BUCKET, shlex.quote(world.ingestion_url))
    return command.replace(EXAMPLE_KEY, shlex.quote(key)) if key else command


@pytest.mark.parametrize("section", list(CASES))
def test_runbook_commands_work_when_pasted(world, section):
    case = CASES[section]
    state = case.prepare(world)
    outputs = []
    for command in runbook_commands()[section]:
        code, output = paste(_substitute(command, world, state.get("key")), world.env(), typed=case.typed)
        assert code == 0, f"{command}\n{output[-3000:]}"
        outputs.append(output)
    case.check(world, state, outputs)


def test_the_runbook_shows_the_error_the_code_prints():
    """The corrupt-object section quotes the error, whose last words are the command to paste."""
    reason = "ComputeError: parquet: File out of specification: The file must end with PAR1"
    assert str(UnreadableObjectError(EXAMPLE_BUCKET, EXAMPLE_KEY, reason)) in RUNBOOK.read_text()


def _dagster_commands() -> list[str]:
    return [command for commands in runbook_commands(_RUNS_DAGSTER).values() for command in commands]


def test_the_runbook_has_dagster_commands_to_run():
    assert len(_dagster_commands()) >= 4


@pytest.mark.parametrize("command", _dagster_commands())
def test_runbook_dagster_commands_work_when_pasted(world, command, tmp_path):
    """Each `dagster …` line runs as written, beside the YAML files the runbook names (`# x.yaml`),
    from a folder like the project's (its virtualenv and dagster.yaml)."""
    for name in (".venv", "dagster.yaml"):
        (tmp_path / name).symlink_to(PROJECT_ROOT / name)
    for name, text in _NAMED_YAML.findall(RUNBOOK.read_text()):
        (tmp_path / name).write_text(text)
    world.change_source()
    code, output = paste(command, world.env(), cwd=tmp_path)
    assert code == 0, f"{command}\n{output[-3000:]}"
    assert "RUN_SUCCESS" in output or "materialized" in output.lower(), output[-2000:]
