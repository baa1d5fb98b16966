"""Screenshot the dashboard against a warehouse (DASHBOARD_DSN, or the embedded default's read-only
role) in headless Chromium, and time the first view until every panel has rendered: a new Streamlit
process, so no answer is cached.

    python -m benchmarks.screenshot_dashboard [--out .reveries/screenshots/live.png] [--after-load]

With --after-load it then changes totesys (`reveries totesys simulate --iterations 1`), loads the
change (`reveries run`), and times the first view after that load: the server is warm, but every
cached answer is stale (answers are cached per warehouse version), so every panel queries again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from reveries_pipeline.dashboard.server import start_background, wait_ready

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _view(page, port: int) -> float:
    """Open the page and wait until every panel has rendered; the seconds it took."""
    started = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/")
    page.get_by_text("Query timings").wait_for(timeout=300_000)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=300_000)
    return time.perf_counter() - started


def _load_a_change() -> None:
    reveries = str(Path(sys.executable).with_name("reveries"))
    for argv in ([reveries, "totesys", "simulate", "--iterations", "1", "--interval", "0"], [reveries, "run"]):
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=".reveries/screenshots/live.png", help="PNG to write")
    parser.add_argument("--after-load", action="store_true", help="also time the first view after a load")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_background(port, os.environ.get("DASHBOARD_DSN"))
    try:
        wait_ready(port, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            print(f"first view (new server process) rendered in {_view(page, port):.2f}s")
            if args.after_load:
                _load_a_change()
                print(f"first view after a load rendered in {_view(page, port):.2f}s")
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out, full_page=True)
            print(f"screenshot: {Path(args.out).resolve()}")
            browser.close()
    finally:
        proc.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
