"""dashboard/app.py run in this process by Streamlit's AppTest on the hand-made warehouse: the page
renders without an exception, and its headline metrics are the figures worked out by hand (the same
literals the browser test reads from the real page). In-process, so coverage measures app.py."""

from __future__ import annotations

import psycopg
import psycopg_pool
import pytest
import streamlit as st
from psycopg.conninfo import make_conninfo
from streamlit.testing.v1 import AppTest

from reveries_pipeline.dashboard import queries, server
from reveries_pipeline_tests.dashboard.test_browser import ALL_CURRENCIES, GBP, USD
from reveries_pipeline_tests.dashboard.warehouse_fixture import seed_warehouse


@pytest.fixture
def app(seeded, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DSN", seeded)
    opened: list[psycopg_pool.ConnectionPool] = []

    class RecordedPool(psycopg_pool.ConnectionPool):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

    # the script imports ConnectionPool on every run; its pool would outlive the test otherwise
    monkeypatch.setattr(psycopg_pool, "ConnectionPool", RecordedPool)
    # the app caches its DSN, pool and answers per process: start from nothing
    st.cache_resource.clear()
    st.cache_data.clear()
    # as served (server.command): no magic, so no ast.parse in the script thread, which CPython 3.11.7
    # can fail while another thread of this worker parses (gh-106905)
    st.config.set_option("runner.magicEnabled", False)
    yield AppTest.from_file(str(server.APP), default_timeout=60)
    st.cache_resource.clear()
    assert opened, "the app opened its pool through psycopg_pool.ConnectionPool"
    for pool in opened:
        pool.close()


def headline(at: AppTest) -> dict[str, str]:
    assert not at.exception, [e.value for e in at.exception]
    return {m.label: m.value for m in at.metric}


def test_headline_follows_the_currency_filter(app):
    at = app.run()
    assert headline(at) == ALL_CURRENCIES
    at.selectbox(key="currency").set_value("USD").run()
    assert headline(at) == USD


def test_the_reporting_currency_converts_the_headline_and_labels_it(app):
    at = app.run()
    # 2024-02-28's order (104) has no rate yet: the page says so under the converted headline
    assert any("1 order without an FX rate" in c.value for c in at.caption), [c.value for c in at.caption]
    at.selectbox(key="reporting_currency").set_value("EUR").run()
    # in EUR: 909.090909 + 34.883721 + 45.926334 + 26.701878 + 73.868883 + 38.551402 + 58.173357
    # + 269.005848 + 1399.090591 (each order / its day's units per euro; rounded once)
    assert headline(at) == {"Sales value (EUR)": "2,855.29", "Orders": "10", "Units sold": "2,312"}
    # filtered to one currency, the figures are native whatever the reporting currency
    at.selectbox(key="currency").set_value("USD").run()
    assert headline(at) == USD
    assert not any("without an FX rate" in c.value for c in at.caption)


def test_currency_preset_in_the_url(app):
    app.query_params["currency"] = "GBP"
    assert headline(app.run()) == GBP


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("order_id", "²", "Ignored order_id='²'"),
        ("order_id", "99999999999999999999", "expected a whole number from 1 to 2147483647"),
        ("order_id", "-3", "Ignored order_id='-3'"),
        ("date_from", "2024-13-45", "Ignored date_from='2024-13-45'"),
        ("as_of", "<script>", "expected a date such as 2024-01-31"),
    ],
)
def test_a_bad_value_in_the_address_is_named_on_the_page_never_a_traceback(app, name, value, says):
    app.query_params[name] = value
    at = app.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(says in w.value for w in at.warning), [w.value for w in at.warning]
    assert headline(at) == ALL_CURRENCIES  # the rest of the page is there


def test_an_unknown_currency_in_the_address_falls_back_without_a_traceback(app):
    app.query_params["currency"] = "XXX"
    at = app.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="currency").value == "All"


def test_a_panel_cancelled_by_the_statement_timeout_is_named_and_the_rest_renders(seeded, app, monkeypatch):
    # the dashboard's role has a statement_timeout; here one panel's query outlasts it, for real
    monkeypatch.setenv("DASHBOARD_DSN", make_conninfo(seeded, options="-c statement_timeout=1000"))
    original = queries.load_query

    def slow_staff_leaderboard(name: str) -> str:
        text = original(name)
        if name != "staff_leaderboard":
            return text
        return f"SELECT slow.* FROM ({text.rstrip().rstrip(';')}\n) AS slow, pg_sleep(30)"

    monkeypatch.setattr(queries, "load_query", slow_staff_leaderboard)
    at = app.run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = at.error
    assert error.value.startswith("Staff leaderboard: the warehouse took too long to answer")
    assert headline(at) == ALL_CURRENCIES
    assert at.number_input(key="order_id").value == 100  # the panels after it rendered too


@pytest.mark.parametrize(
    ("change", "says"),
    [
        # built by older code: a version recorded, a table this dashboard reads not there yet
        (
            "INSERT INTO reveries_schema_version (version) VALUES ('older');"
            " DROP TABLE reporting_sales_by_design_converted",
            "older than this dashboard",
        ),
        ("DROP TABLE reveries_schema_version, reporting_sales_by_design_converted", "never loaded"),
    ],
)
def test_a_warehouse_the_dashboard_cannot_read_yet_says_what_to_run(app, make_database, monkeypatch, change, says):
    dsn = make_database("dash")
    seed_warehouse(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(change)
    monkeypatch.setenv("DASHBOARD_DSN", dsn)
    at = app.run()
    assert not at.exception, [e.value for e in at.exception]
    assert says in " ".join(m.value for m in at.markdown)
    assert "reveries run" in at.info[0].value
