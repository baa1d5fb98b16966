"""`reveries dev` starts `dg dev` on the embedded default, and neither its start nor its Ctrl-C prints a
warning: no superseded `dagster dev`, no ignored dagster.yaml, no beta API, no lost database (the
embedded server outlives the servers using it). One real start (~10 s) for the module."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from reveries_pipeline.cli.serve import PROJECT_ROOT, dg_dev_command
from reveries_pipeline_tests.support import free_port, subprocess_env

REVERIES = str(Path(sys.executable).parent / "reveries")
# Both servers are up once these two lines are out.
STARTED = ("Serving dagster-webserver", "Instance is configured with the following daemons")
# A brand-new instance's daemon says once that it has no event cursor yet; no later start does.
FIRST_START_ONLY = "No cursor for event type"


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


def start_and_stop_dev(reveries_home: Path, log: Path, timeout: float = 150) -> str:
    """Run `reveries dev` until both servers are up, then Ctrl-C it; return what it printed."""
    env = subprocess_env(REVERIES_HOME=str(reveries_home), NO_COLOR="1")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [REVERIES, "dev", "--port", str(port := free_port())],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C reaches dg dev and its servers
            # as at a terminal: an ignored SIGINT is inherited (in-process Dagster runs of earlier
            # tests in this worker can leave it ignored), and a Python started so ignores Ctrl-C
            preexec_fn=_interruptible,  # noqa: PLW1509 - only resets a signal disposition
        )
    try:
        deadline = time.monotonic() + timeout
        # the log lines come before the webserver handles signals: a Ctrl-C in between (a loaded
        # machine) left dg dev waiting for it for good; once it answers, it is serving
        while not (all(line in log.read_text() for line in STARTED) and _answers(port)):
            assert proc.poll() is None, f"reveries dev exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"reveries dev did not start in {timeout} s:\n{log.read_text()}"
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C at a terminal reaches the whole group
        # quiet, it stops within a second; once, under a full parallel suite plus other work on the
        # machine, dg dev took over 60 s to exit after its daemon had shut down
        proc.wait(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):  # nothing of the group may outlive the test
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return log.read_text()


@pytest.fixture(scope="module")
def dev_output(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("dev")
    return start_and_stop_dev(folder / "reveries", folder / "dev.log")


def test_reveries_dev_starts_dg_dev_on_the_project_instance(dev_output):
    assert "starting: dg dev" in dev_output
    assert "DAGSTER_HOME=" in dev_output and "dagster_home" in dev_output
    assert "superseded" not in dev_output


def test_reveries_dev_starts_without_warnings(dev_output):
    warnings = [line for line in dev_output.splitlines() if "WARNING" in line or "Warning:" in line]
    assert [line for line in warnings if FIRST_START_ONLY not in line] == []
    assert "will not be used to configure Dagster" not in dev_output
    assert "is currently in beta" not in dev_output


def test_dg_dev_runs_the_project_workspace_with_this_interpreter():
    command = dg_dev_command(("--port", "3001"))
    assert command[:4] == [sys.executable, "-m", "dagster_dg_cli.cli", "dev"]
    assert command[command.index("--workspace") + 1] == str(PROJECT_ROOT / "workspace.yaml")
    assert command[-2:] == ["--port", "3001"]
