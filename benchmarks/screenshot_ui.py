"""Screenshot the Dagster UI's asset pages (row count and column schema of a processed and a warehouse
table) after a `reveries demo`, for docs/img/.

    REVERIES_HOME=/tmp/ui-demo .venv/bin/reveries demo --scale 0.2
    REVERIES_HOME=/tmp/ui-demo .venv/bin/python -m benchmarks.screenshot_ui --out-dir docs/img

It serves the UI with `dagster-webserver` on the same instance `reveries demo` recorded its run in.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from reveries_pipeline import config
from reveries_pipeline.dagster_instance import prepare_dagster_home
from reveries_pipeline.embedded import embedded_dsn

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PAGES = {
    "ui-processed-fact-sales-order.png": "processed/fact_sales_order",
    "ui-warehouse-fact-sales-order.png": "warehouse/fact_sales_order",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_process_group(proc: subprocess.Popen) -> None:
    """Stop `proc`, started with start_new_session=True, and every process it started: Ctrl-C first, as a
    user would (dagster stops its daemon and code servers, and the embedded PostgreSQL is released),
    harder if that is ignored."""
    for sig, grace_seconds in ((signal.SIGINT, 60), (signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        if not _group_alive(proc.pid):
            return
        os.killpg(proc.pid, sig)
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader, so a finished group reads as gone
            if not _group_alive(proc.pid):
                return
            time.sleep(0.5)


def _serve(port: int) -> subprocess.Popen:
    prepare_dagster_home(config.reveries_home() / "dagster_home", embedded_dsn("dagster"))
    argv = [sys.executable, "-m", "dagster_webserver", "-m", "reveries_pipeline.definitions", "-p", str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # noqa: S603
    try:
        wait_until_serving(port, proc)
    except RuntimeError:
        stop_process_group(proc)
        raise
    return proc


def wait_until_serving(port: int, proc: subprocess.Popen, timeout_s: int = 120) -> None:
    """Wait until the Dagster webserver of `proc` answers on `port`; raise if it exits or never does."""
    for _ in range(timeout_s):
        if proc.poll() is not None:
            raise RuntimeError(f"the Dagster webserver exited with status {proc.returncode} before serving")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)  # noqa: S310
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"the Dagster webserver did not answer on port {port} within {timeout_s} s")


def launch_chromium(pw: Playwright) -> Browser:
    """The system's headless Chromium (Debian's package, as CI installs it)."""
    return pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)


def skip_community_dialog(page: Page) -> None:
    """Close the UI's first-visit "join the community" dialog, if it is showing."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()
        page.wait_for_timeout(500)


def _shoot(port: int, out_dir: Path) -> None:
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1500, "height": 1300})
        for name, key in PAGES.items():
            page.goto(f"http://127.0.0.1:{port}/assets/{key}")
            page.get_by_text("Columns").first.wait_for(timeout=120_000)
            page.wait_for_timeout(3000)  # let the metadata panels finish loading
            skip_community_dialog(page)
            page.screenshot(path=str(out_dir / name), full_page=True)
            print(f"{key}: {out_dir / name}")
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default="docs/img", help="folder for the PNGs")
    args = parser.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = _serve(port)
    try:
        _shoot(port, out_dir)
    finally:
        stop_process_group(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
