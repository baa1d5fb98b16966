"""Operator input: keys, pasted commands and destructive commands pointed at real data.

- `reveries quarantine` with a key that isn't plainly one batch of the bucket (`./_state/…`,
  `_rejects/../…`, `../x`, an absolute path, `a//b`, empty, NUL, backslash, another bucket's URL)
  fails with one line and leaves both buckets byte for byte as they were: no `_quarantine/` copy,
  no record, no checkpoint moved.
- the quarantine command an unreadable-object error prints works when pasted into a shell, even
  when the bucket's path needs quoting.
- `reveries totesys seed` and `reveries demo` against a database set by TOTESYS_DSN refuse without
  `--yes`, naming it without its password, and leave its rows untouched.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil

import pytest
from click.testing import CliRunner

from reveries_pipeline.cli import main
from reveries_pipeline.resources.postgres import redact_dsn
from reveries_pipeline_tests.faults.harness import newest_key, truncate_object
from reveries_pipeline_tests.shell import paste
from reveries_pipeline_tests.support import lake_keys

pytestmark = pytest.mark.hostile

STATE_KEY = "_state/ingestion/checkpoints/sales_order.json"


def _bad_keys(world, raw_key: str) -> list[tuple[str, str, list[str]]]:
    """(bucket, key, extra args): each names, or escapes to, something real, or is malformed."""
    table, rest = raw_key.split("/", 1)
    return [
        ("ingestion", f"./{STATE_KEY}", []),
        ("ingestion", f"_rejects/../{STATE_KEY}", []),
        ("ingestion", f"_rejects/../{raw_key}", ["--force"]),  # a readable batch, dressed as a rejects report
        ("ingestion", f"./{raw_key}", ["--force"]),
        ("ingestion", f"{table}//{rest}", ["--force"]),
        ("ingestion", f"../ingestion/{raw_key}", ["--force"]),
        ("ingestion", "../x", []),
        ("ingestion", "/abs", []),
        ("ingestion", f"/{raw_key}", ["--force"]),
        ("ingestion", "a//b", []),
        ("ingestion", "", []),
        ("ingestion", " ", []),
        ("ingestion", f"{raw_key}\x00", ["--force"]),
        ("ingestion", raw_key.replace("/", "\\"), ["--force"]),
        ("ingestion", f"{raw_key}\n", ["--force"]),
        ("ingestion", f"s3://elsewhere/{raw_key}", ["--force"]),
        ("ingestion", f"{world.processed_url}/{raw_key}", ["--force"]),  # a path in the other bucket
        ("processed", raw_key, ["--force"]),  # a raw batch key given to the processed bucket
        ("ingestion", "_quarantine/" + raw_key, ["--force"]),
        ("processed", "_state/processing/checkpoint.json", ["--force"]),
    ]


def _invoke_in(world, monkeypatch, args: list[str]):
    for name, value in world.env().items():
        if name.endswith(("_DSN", "_BUCKET_URL")) or name == "REVERIES_HOME":
            monkeypatch.setenv(name, value)
    return CliRunner().invoke(main, args)


def test_quarantine_refuses_bad_keys_in_one_line_and_touches_nothing(world, monkeypatch):
    raw_key = newest_key(world.ingestion, "sales_order/")
    before = world.bucket_snapshot()
    for bucket, key, extra in _bad_keys(world, raw_key):
        result = _invoke_in(world, monkeypatch, ["quarantine", "--bucket", bucket, key, *extra])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1, (key, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (key, repr(result.exception))
        assert len(lines) == 1 and lines[0].startswith("Error: "), (key, result.output)
        assert world.bucket_snapshot() == before, f"{key!r} changed the buckets"


def test_a_key_given_as_its_full_path_inside_the_bucket_is_quarantined(world, monkeypatch):
    raw_key = newest_key(world.ingestion, "sales_order/")
    truncate_object(world.ingestion, raw_key)
    full_path = os.path.join(os.path.abspath(world.ingestion_url), raw_key)

    result = _invoke_in(world, monkeypatch, ["quarantine", "--bucket", "ingestion", full_path])
    assert result.exit_code == 0, result.output
    assert world.ingestion.get_bytes(raw_key) is None
    assert world.ingestion.get_bytes(f"_quarantine/{raw_key}") is not None
    assert set(lake_keys(world.ingestion, "_quarantine/")) == {
        f"_quarantine/{raw_key}",
        f"_quarantine/{raw_key}.json",
    }


def _printed_command(output: str) -> str:
    match = re.search(r"; run: (reveries quarantine .+)$", output, re.MULTILINE)
    assert match, f"no quarantine command in:\n{output[-3000:]}"
    return match[1]


def test_the_printed_quarantine_command_works_when_pasted(world):
    # A bucket folder whose name needs quoting in a shell: pasted unquoted, it would split or expand.
    awkward = world.home / "lake $HOME (copy)" / "ingestion"
    awkward.parent.mkdir()
    shutil.move(world.ingestion_url, awkward)
    world.ingestion_url = str(awkward)
    world.change_source()
    assert world.run("ingestion_job").ok
    key = newest_key(world.ingestion, "sales_order/")
    truncate_object(world.ingestion, key)

    failed = world.run("processing_job")
    assert failed.returncode != 0
    command = _printed_command(failed.output)
    code, output = paste(command, world.env())
    assert code == 0, output
    assert world.ingestion.get_bytes(key) is None
    assert world.ingestion.get_bytes(f"_quarantine/{key}") is not None
    assert world.ingestion.get_bytes(f"_quarantine/{key}.json") is not None


def _with_password(dsn: str, password: str) -> str:
    """The same DSN with a password (the embedded test server ignores it: trust auth)."""
    scheme, rest = dsn.split("://", 1)
    user, _, where = rest.rpartition("@")
    return f"{scheme}://{user.split(':', 1)[0] or 'postgres'}:{password}@{where}"


def _sales_order_digest(world) -> tuple:
    return world.source("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY sales_order_id)) FROM sales_order t")[0]


@pytest.mark.parametrize("command", [["totesys", "seed", "--scale", "0.05"], ["demo", "--scale", "0.05"]])
def test_seed_and_demo_refuse_a_configured_database_without_yes(world, command):
    password = "hunter2 p@ss%word"  # noqa: S105 - a made-up password that must never be printed
    dsn = _with_password(world.totesys_dsn, "hunter2%20p%40ss%25word")
    rows = _sales_order_digest(world)
    buckets = world.bucket_snapshot()

    code, output = paste(shlex.join(["reveries", *command]), world.env(TOTESYS_DSN=dsn))  # no terminal to ask on
    assert code == 1, output[-3000:]
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: refusing to seed"), output[-3000:]
    assert redact_dsn(dsn) in lines[0] and "--yes" in lines[0]
    assert "hunter2" not in output and password not in output
    assert _sales_order_digest(world) == rows
    assert world.bucket_snapshot() == buckets
