"""Ingestion leaves nothing in the temp folder: its spool goes after every run, succeeded or failed,
and the spools of runs that were killed are swept at the start of the next."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time

import psycopg
import pytest

from reveries_pipeline.ingestion.spool import sweep_stale_spools

local_bucket = pytest.mark.parametrize("bucket_kind", ["local"])  # about the temp folder, not the bucket


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    """This test's own temp folder, so other processes' spools can't interfere."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def spools(folder):
    return sorted(p.name for p in folder.glob("reveries-raw-*"))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=60)
    return child.pid


def make_spool(folder, name, owner: str | None, age_s: float = 0):
    path = folder / name
    path.mkdir()
    (path / "sales_order.parquet").write_bytes(b"PAR1 half-written")
    if owner is not None:
        (path / "owner.pid").write_text(owner)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


@local_bucket
def test_no_spool_is_left_after_a_run_that_succeeds_or_fails(run_ingestion, source, temp_folder):
    assert run_ingestion().success
    assert spools(temp_folder) == []
    with psycopg.connect(source) as conn:
        conn.execute("ALTER TABLE sales_order DROP COLUMN staff_id")
    assert not run_ingestion(raise_on_error=False).success
    assert spools(temp_folder) == []


@local_bucket
def test_spools_of_runs_that_are_gone_are_swept_at_the_start_of_a_run(run_ingestion, temp_folder):
    host = socket.gethostname()
    make_spool(temp_folder, "reveries-raw-killed", f"{host} {dead_pid()}")
    make_spool(temp_folder, "reveries-raw-legacy", None, age_s=2 * 86400)  # no pid file, days old
    make_spool(temp_folder, "reveries-raw-running", f"{host} {os.getpid()}")  # a live run: kept
    make_spool(temp_folder, "reveries-raw-starting", None)  # just created, pid not written yet: kept
    make_spool(temp_folder, "reveries-raw-elsewhere", f"other-host {dead_pid()}")  # can't tell: kept
    (temp_folder / "unrelated").mkdir()
    assert run_ingestion().success
    assert spools(temp_folder) == ["reveries-raw-elsewhere", "reveries-raw-running", "reveries-raw-starting"]
    assert (temp_folder / "unrelated").exists()


def test_sweep_returns_what_it_removed(temp_folder):
    stale = make_spool(temp_folder, "reveries-raw-x", f"{socket.gethostname()} {dead_pid()}")
    old_elsewhere = make_spool(temp_folder, "reveries-raw-y", "other-host 1", age_s=2 * 86400)
    assert sorted(sweep_stale_spools(temp_folder)) == sorted([stale, old_elsewhere])
    assert spools(temp_folder) == []
