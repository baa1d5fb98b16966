"""Screenshot the dashboard against a warehouse (WAREHOUSE_DSN, or the embedded default) in headless
Chromium, and time the page until every panel has rendered.

    python benchmarks/screenshot_dashboard.py [--out .reveries/screenshots/live.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=".reveries/screenshots/live.png", help="PNG to write")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start_background(port, os.environ.get("WAREHOUSE_DSN"))
    try:
        wait_ready(port, proc)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            started = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_text("Query timings").wait_for(timeout=300_000)
            page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=300_000)
            print(f"page rendered in {time.perf_counter() - started:.2f}s")
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out, full_page=True)
            print(f"screenshot: {Path(args.out).resolve()}")
            browser.close()
    finally:
        proc.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
