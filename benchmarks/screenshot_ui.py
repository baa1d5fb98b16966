"""Screenshot the Dagster UI's asset pages (row count and column schema of a processed and a warehouse
table) after a `reveries demo`, for docs/img/.

    REVERIES_HOME=/tmp/ui-demo .venv/bin/reveries demo --scale 0.2
    REVERIES_HOME=/tmp/ui-demo .venv/bin/python benchmarks/screenshot_ui.py --out-dir docs/img

It serves the UI with `dagster-webserver` on the same instance `reveries demo` recorded its run in.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from reveries_pipeline import config
from reveries_pipeline.dagster_instance import prepare_dagster_home
from reveries_pipeline.embedded import embedded_dsn

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PAGES = {
    "ui-processed-fact-sales-order.png": "processed/fact_sales_order",
    "ui-warehouse-fact-sales-order.png": "warehouse/fact_sales_order",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int) -> subprocess.Popen:
    prepare_dagster_home(config.reveries_home() / "dagster_home", embedded_dsn("dagster"))
    argv = [sys.executable, "-m", "dagster_webserver", "-m", "reveries_pipeline.definitions", "-p", str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)  # noqa: S310
            return proc
        except OSError:
            time.sleep(1)
    proc.terminate()
    raise RuntimeError("dagster-webserver did not start within 120 s")


def _shoot(port: int, out_dir: Path) -> None:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1300})
        for name, key in PAGES.items():
            page.goto(f"http://127.0.0.1:{port}/assets/{key}")
            page.get_by_text("Columns").first.wait_for(timeout=120_000)
            page.wait_for_timeout(3000)  # let the metadata panels finish loading
            skip = page.get_by_role("button", name="Skip")  # the first-visit "join the community" dialog
            if skip.count():
                skip.first.click()
                page.wait_for_timeout(500)
            page.screenshot(path=str(out_dir / name), full_page=True)
            print(f"{key}: {out_dir / name}")
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default="docs/img", help="folder for the PNGs")
    args = parser.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = _serve(port)
    try:
        _shoot(port, out_dir)
    finally:
        proc.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
