"""dashboard/app.py run in this process by Streamlit's AppTest on the hand-made warehouse: the page
renders without an exception, and its headline metrics are the figures worked out by hand (the same
literals the browser test reads from the real page). In-process, so coverage measures app.py."""

from __future__ import annotations

import psycopg_pool
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from reveries_pipeline.dashboard import server
from reveries_pipeline_tests.dashboard.test_browser import ALL_CURRENCIES, GBP, USD


@pytest.fixture
def app(seeded, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", seeded)
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


def test_currency_preset_in_the_url(app):
    app.query_params["currency"] = "GBP"
    assert headline(app.run()) == GBP
