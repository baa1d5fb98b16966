"""The dashboard in a real headless Chromium: headline figures match SQL, and follow the currency filter."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import psycopg
import pytest

from reveries_pipeline.dashboard import server
from reveries_pipeline.dashboard.queries import format_count, format_money, run_query
from reveries_pipeline_tests.dashboard.warehouse_fixture import seed_warehouse

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / ".reveries" / "screenshots" / "dashboard.png"  # .reveries/ is gitignored


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.skip("Chromium not found; install Debian chromium to run the browser test")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _expected(dsn: str, **filters) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        h = run_query(conn, "headline", **filters).row(0, named=True)
    return {
        "Sales value": format_money(h["sales_value"]),
        "Orders": format_count(h["orders"]),
        "Units sold": format_count(h["units_sold"]),
    }


def _metric(page, label: str):
    return page.locator(
        f'[data-testid="stMetric"]:has([data-testid="stMetricLabel"] p:text-is("{label}")) '
        '[data-testid="stMetricValue"]'
    )


def _assert_headline(page, expected: dict[str, str]) -> None:
    from playwright.sync_api import expect

    for label, value in expected.items():
        expect(_metric(page, label)).to_have_text(value, timeout=30_000)


def _wait_rendered(page) -> None:
    page.get_by_text("Query timings").wait_for(timeout=60_000)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


@pytest.fixture
def dashboard(warehouse_dsn, tmp_path):
    seed_warehouse(warehouse_dsn)
    port = _free_port()
    log = tmp_path / "streamlit.log"
    proc = server.start_background(port, warehouse_dsn, log_path=log)
    try:
        server.wait_ready(port, proc, timeout=90)
        yield f"http://127.0.0.1:{port}", warehouse_dsn
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except Exception:
            proc.kill()
        print(f"streamlit log: {log}")


def test_dashboard_headline_follows_filters(dashboard, tmp_path):
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    url, dsn = dashboard
    all_currencies = _expected(dsn)
    usd, gbp = _expected(dsn, currency="USD"), _expected(dsn, currency="GBP")
    assert len({all_currencies["Sales value"], usd["Sales value"], gbp["Sales value"]}) == 3

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="domcontentloaded")
            _wait_rendered(page)
            page.get_by_text("Warehouse last loaded at").wait_for()
            _assert_headline(page, all_currencies)

            # pick one currency in the sidebar selectbox
            page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Currency").click()
            page.get_by_role("option", name="USD", exact=True).click()
            _assert_headline(page, usd)
            _wait_rendered(page)

            # Streamlit scrolls inside its main container, so a full-page shot needs a tall viewport
            height = page.evaluate(
                "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight))"
            )
            page.set_viewport_size({"width": 1400, "height": min(int(height) + 100, 12_000)})
            _wait_rendered(page)
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, SCREENSHOT)
            print(f"dashboard screenshot: {SCREENSHOT}")

            # a currency preset in the URL
            page.goto(f"{url}/?currency=GBP", wait_until="domcontentloaded")
            _wait_rendered(page)
            _assert_headline(page, gbp)
        finally:
            browser.close()
