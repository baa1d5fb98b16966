"""Run the dashboard: `streamlit run app.py` in a child process (what `reveries dashboard` calls)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from reveries_pipeline.config import DASHBOARD_DSN, WAREHOUSE_DSN

APP = Path(__file__).with_name("app.py")


# Only this machine, unless the operator opts in: the dashboard has no login of its own.
LOOPBACK = "127.0.0.1"


def command(port: int, headless: bool = True, address: str = LOOPBACK) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.headless",
        "true" if headless else "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        # visitors see a generic message; the exception and its traceback go to the server's log
        "--client.showErrorDetails",
        "none",
        # the page uses no "magic" (bare expressions written out), and magic runs ast.parse on the
        # script, which CPython 3.11.7 can fail when two sessions compile at once (gh-106905)
        "--runner.magicEnabled",
        "false",
        "--server.address",
        address,
    ]
    return cmd


def _env(dashboard_dsn: str | None) -> dict[str, str]:
    """The child's environment: the dashboard's own DSN, and not the loader's read-write one."""
    env = {name: value for name, value in os.environ.items() if name != WAREHOUSE_DSN}
    if dashboard_dsn:
        env[DASHBOARD_DSN] = dashboard_dsn
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    return env


def serve(port: int = 8501, headless: bool = True, dashboard_dsn: str | None = None, address: str = LOOPBACK) -> int:
    """Run the dashboard in the foreground until it exits (or Ctrl-C); returns its exit code."""
    proc = subprocess.Popen(command(port, headless, address), env=_env(dashboard_dsn))  # noqa: S603
    # stopped by a service manager (SIGTERM): stop Streamlit too, rather than leave it serving
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def start_background(
    port: int, dashboard_dsn: str | None = None, address: str = LOOPBACK, log_path: Path | None = None
) -> subprocess.Popen:
    """Start the dashboard without blocking (for tests); stop it with .terminate(). See wait_ready."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    return subprocess.Popen(  # noqa: S603
        command(port, True, address), env=_env(dashboard_dsn), stdout=out, stderr=subprocess.STDOUT
    )


def wait_ready(port: int, proc: subprocess.Popen | None = None, timeout: float = 60.0, host: str = "127.0.0.1") -> None:
    """Block until Streamlit's health endpoint answers ok; raise if the process dies or time runs out."""
    url = f"http://{host}:{port}/_stcore/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"dashboard exited with code {proc.returncode} before becoming ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310  # nosec B310
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"dashboard not ready at {url} after {timeout:.0f}s")
