"""Deletes on the dashboard: a panel that lists dimension members leaves out the ones deleted at the
source (a deletion marker in reveries_deleted_rows), and an order whose current version was deleted
leaves the figures built on fact_sales_order_current."""

from __future__ import annotations

from datetime import date, time

import psycopg
import pytest

from reveries_pipeline.dashboard.queries import run_query
from reveries_pipeline.warehouse import reporting
from reveries_pipeline_tests.dashboard.warehouse_fixture import SALES, seed_warehouse

MARKERS = [
    ("dim_staff", 2),
    ("dim_design", 3),
    ("dim_counterparty", 3),  # Kub Ltd, the only counterparty in Lyon, France
    ("dim_currency", 2),
]
ORDER_101_CURRENT = ("fact_sales_order", 101, date(2024, 1, 9), time(9, 0))  # record 2, v2 of order 101
ORDER_103_OLD = ("fact_sales_order", 103, date(2024, 2, 3), time(12, 0))  # record 5: not 103's current version


@pytest.fixture
def warehouse(make_database):
    dsn = make_database("dash_deletes")
    seed_warehouse(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


def mark_deleted(conn, *markers: tuple) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO reveries_deleted_rows (star_table, natural_id, version_date, version_time) "
            "VALUES (%s, %s, %s, %s)",
            markers,
        )
    with conn.transaction():
        reporting.after_marker_load(conn)  # what the loader does after loading markers


def column(conn, query: str, name: str, **params) -> list:
    return run_query(conn, query, **params).get_column(name).to_list()


def test_panels_listing_dimension_members_leave_out_deleted_ones(warehouse):
    conn = warehouse
    before = {
        "staff": column(conn, "staff_leaderboard", "staff_id"),
        "designs": column(conn, "top_designs_by_value", "design_id"),
        "units": column(conn, "top_designs_by_units", "design_id"),
        "cities": column(conn, "sales_by_location", "city"),
        "currencies": column(conn, "currencies", "currency_code"),
    }
    assert 2 in before["staff"] and 3 in before["designs"] and "Lyon" in before["cities"]
    assert "USD" in before["currencies"]

    mark_deleted(conn, *((table, natural_id, date(2024, 1, 1), time(0, 0)) for table, natural_id in MARKERS))

    assert column(conn, "staff_leaderboard", "staff_id") == [s for s in before["staff"] if s != 2]
    assert column(conn, "staff_leaderboard", "rank") == [1]  # ranked among the members listed
    assert column(conn, "staff_leaderboard", "total_rows") == [len(before["staff"]) - 1]
    assert column(conn, "top_designs_by_value", "design_id") == [d for d in before["designs"] if d != 3]
    assert column(conn, "top_designs_by_units", "design_id") == [d for d in before["units"] if d != 3]
    assert column(conn, "sales_by_location", "city") == [c for c in before["cities"] if c != "Lyon"]
    assert column(conn, "currencies", "currency_code") == [c for c in before["currencies"] if c != "USD"]
    # the dimension rows themselves stay: facts reference them
    assert conn.execute("SELECT count(*) FROM dim_staff WHERE staff_id = 2").fetchone() == (1,)


def test_an_order_whose_current_version_was_deleted_leaves_the_current_figures(warehouse):
    conn = warehouse
    headline = run_query(conn, "headline", currency="GBP").row(0, named=True)  # 101 is a GBP order
    mark_deleted(conn, ORDER_101_CURRENT, ORDER_103_OLD)

    after = run_query(conn, "headline", currency="GBP").row(0, named=True)
    [deleted] = [r for r in SALES if r[0] == 2]  # record 2 is order 101's current version
    assert after["orders"] == headline["orders"] - 1  # 103 stays: its deleted version wasn't the current one
    assert after["units_sold"] == headline["units_sold"] - deleted[7]
    assert after["sales_value"] == headline["sales_value"] - deleted[7] * deleted[8]
    history = run_query(conn, "order_history", sales_order_id=101)
    assert history.get_column("sales_record_id").to_list() == [1, 2]  # its history stays
    assert history.get_column("is_current").to_list() == [False, False]
    assert run_query(conn, "order_history", sales_order_id=103).get_column("is_current").to_list() == [True, False]
