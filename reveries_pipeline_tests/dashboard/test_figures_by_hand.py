"""The dashboard's queries on the hand-made warehouse (warehouse_fixture.py), against answers worked out
by hand: literal numbers, with the arithmetic in a comment. test_queries.py checks the same queries
against answers computed in Python over many filters; this file pins the figures a reader can verify.

The current version of each sales order (created, staff, counterparty, units x price = value, currency,
design), from which every sales figure below is summed:

    100  2023-04-25  Ada    Vienna       1000 x  1.00 = 1000.00  USD  Wooden
    101  2024-01-05  Ada    Aliso Viejo    12 x  2.50 =   30.00  GBP  Wooden   (version 2 of 2)
    102  2024-01-20  Grace  Vienna          5 x 10.00 =   50.00  USD  Bronze
    103  2024-02-03  Grace  Lyon            7 x  3.25 =   22.75  GBP  Soft     (not the late old version)
    104  2024-02-28  Ada    Vienna        100 x  0.99 =   99.00  USD  Granite
    105  2024-03-01  Grace  Aliso Viejo     4 x 20.00 =   80.00  USD  Bronze   (version 2: GBP -> USD)
    106  2024-03-15  Ada    Lyon           30 x  1.10 =   33.00  GBP  Wooden
    107  2024-04-02  Grace  Vienna          1 x 50.00 =   50.00  GBP  Soft     (record 12 wins a tie)
    108  2024-04-20  Ada    Aliso Viejo  1150 x  0.20 =  230.00  GBP  Granite
    109  2024-04-25  Grace  Lyon            3 x400.00 = 1200.00  GBP  Bronze
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from reveries_pipeline.dashboard.queries import run_query

ALL = {}
GBP = {"currency": "GBP"}
USD = {"currency": "USD"}


def rows(conn, name: str, **params) -> list[tuple]:
    return [tuple(r.values()) for r in run_query(conn, name, **params).to_dicts()]


def test_last_loaded(conn):
    # the latest of the three ledger entries (06-01 10:00, 06-02 11:30, 06-01 23:59)
    assert rows(conn, "last_loaded") == [(datetime(2024, 6, 2, 11, 30, tzinfo=UTC),)]


def test_currencies_and_date_bounds(conn):
    # EUR is only used by payments, which the sales and purchase panels do not show
    assert rows(conn, "currencies") == [("GBP",), ("USD",)]
    # first: order 100 (2023-04-25); last: purchase 203 (2024-05-01), after sale 109 (2024-04-25)
    assert rows(conn, "date_bounds") == [(date(2023, 4, 25), date(2024, 5, 1))]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        # 1000 + 30 + 50 + 22.75 + 99 + 80 + 33 + 50 + 230 + 1200 = 2794.75; 10 orders;
        # units 1000 + 12 + 5 + 7 + 100 + 4 + 30 + 1 + 1150 + 3 = 2312
        (ALL, (D("2794.75"), 10, 2312)),
        # 101, 103, 106, 107, 108, 109: 30 + 22.75 + 33 + 50 + 230 + 1200 = 1565.75; 12+7+30+1+1150+3 = 1203
        (GBP, (D("1565.75"), 6, 1203)),
        # 100, 102, 104, 105: 1000 + 50 + 99 + 80 = 1229.00; 1000 + 5 + 100 + 4 = 1109
        (USD, (D("1229.00"), 4, 1109)),
        ({"currency": "EUR"}, (D("0"), 0, 0)),  # no EUR sales: zeros, not NULLs
        # Feb-Mar 2024: 103, 104, 105, 106: 22.75 + 99 + 80 + 33 = 234.75; 7 + 100 + 4 + 30 = 141
        ({"date_from": date(2024, 2, 1), "date_to": date(2024, 3, 31)}, (D("234.75"), 4, 141)),
    ],
    ids=["all", "GBP", "USD", "EUR", "feb-mar"],
)
def test_headline(conn, filters, expected):
    assert rows(conn, "headline", **filters) == [expected]


def test_sales_by_month(conn):
    assert rows(conn, "sales_by_month") == [
        (date(2023, 4, 1), "USD", D("1000.00"), 1, 1000),
        (date(2024, 1, 1), "GBP", D("30.00"), 1, 12),
        (date(2024, 1, 1), "USD", D("50.00"), 1, 5),
        (date(2024, 2, 1), "GBP", D("22.75"), 1, 7),
        (date(2024, 2, 1), "USD", D("99.00"), 1, 100),
        (date(2024, 3, 1), "GBP", D("33.00"), 1, 30),
        (date(2024, 3, 1), "USD", D("80.00"), 1, 4),
        (date(2024, 4, 1), "GBP", D("1480.00"), 3, 1154),  # 107, 108, 109: 50 + 230 + 1200; 1 + 1150 + 3
    ]


# (design_id, name, sales value, units, orders), all currencies summed:
# Bronze  102 + 105 + 109: 50 + 80 + 1200 = 1330.00; 5 + 4 + 3 = 12 units
# Wooden  100 + 101 + 106: 1000 + 30 + 33 = 1063.00; 1000 + 12 + 30 = 1042 units
# Granite 104 + 108: 99 + 230 = 329.00; 100 + 1150 = 1250 units
# Soft    103 + 107: 22.75 + 50 = 72.75; 7 + 1 = 8 units
BRONZE = (2, "Bronze", D("1330.00"), 12, 3)
WOODEN = (1, "Wooden", D("1063.00"), 1042, 3)
GRANITE = (4, "Granite", D("329.00"), 1250, 2)
SOFT = (3, "Soft", D("72.75"), 8, 2)


def test_top_designs(conn):
    assert rows(conn, "top_designs_by_value") == [BRONZE, WOODEN, GRANITE, SOFT]
    assert rows(conn, "top_designs_by_units") == [GRANITE, WOODEN, BRONZE, SOFT]
    assert rows(conn, "top_designs_by_value", limit=2) == [BRONZE, WOODEN]
    # GBP only: Bronze 1200 (109), Granite 230 (108), Soft 22.75 + 50 = 72.75, Wooden 30 + 33 = 63
    assert rows(conn, "top_designs_by_value", **GBP) == [
        (2, "Bronze", D("1200.00"), 3, 1),
        (4, "Granite", D("230.00"), 1150, 1),
        (3, "Soft", D("72.75"), 8, 2),
        (1, "Wooden", D("63.00"), 42, 2),
    ]


def test_sales_by_location(conn):
    # Lyon 103 + 106 + 109: 22.75 + 33 + 1200 = 1255.75, units 7 + 30 + 3 = 40
    # Vienna 100 + 102 + 104 + 107: 1000 + 50 + 99 + 50 = 1199.00, units 1000 + 5 + 100 + 1 = 1106
    # Aliso Viejo 101 + 105 + 108: 30 + 80 + 230 = 340.00, units 12 + 4 + 1150 = 1166
    assert rows(conn, "sales_by_location") == [
        ("France", "Lyon", D("1255.75"), 3, 40, 3),
        ("Austria", "Vienna", D("1199.00"), 4, 1106, 3),
        ("Austria", "Aliso Viejo", D("340.00"), 3, 1166, 3),
    ]
    assert rows(conn, "sales_by_location", limit=1, offset=1) == [("Austria", "Vienna", D("1199.00"), 4, 1106, 3)]


def test_staff_leaderboard(conn):
    # Grace 102 + 103 + 105 + 107 + 109: 50 + 22.75 + 80 + 50 + 1200 = 1402.75, units 5 + 7 + 4 + 1 + 3 = 20
    # Ada 100 + 101 + 104 + 106 + 108: 1000 + 30 + 99 + 33 + 230 = 1392.00, units 1000+12+100+30+1150 = 2292
    assert rows(conn, "staff_leaderboard") == [
        (1, 2, "Grace Hopper", "Sales", "Leeds", D("1402.75"), 5, 20, 2),
        (2, 1, "Ada Lovelace", "Sales", "Manchester", D("1392.00"), 5, 2292, 2),
    ]


def test_outstanding_payments_at_june_30(conn):
    # Unpaid current versions due before 2024-06-30, days overdue = 06-30 minus the payment date:
    # 301 06-29 (1 day) and 302 05-31 (30): 0-30 GBP, 10 + 20; 303 05-15 (46) USD; 304 05-01 (60) GBP;
    # 305 04-20 (71) GBP; 306 04-01 (90) USD; 307 03-01 (121) EUR; 311 v2 unpaid 01-10 (172) USD.
    # Left out: 308 (due 07-15), 309 and 310 v2 (paid), 312 (due on the day itself).
    assert rows(conn, "outstanding_payments", as_of=date(2024, 6, 30)) == [
        ("0-30", 1, "GBP", 2, D("30.00"), date(2024, 5, 31)),
        ("31-60", 2, "GBP", 1, D("40.00"), date(2024, 5, 1)),
        ("31-60", 2, "USD", 1, D("30.50"), date(2024, 5, 15)),
        ("61-90", 3, "GBP", 1, D("50.00"), date(2024, 4, 20)),
        ("61-90", 3, "USD", 1, D("60.00"), date(2024, 4, 1)),
        ("90+", 4, "EUR", 1, D("70.00"), date(2024, 3, 1)),
        ("90+", 4, "USD", 1, D("111.00"), date(2024, 1, 10)),
    ]


def test_purchases_vs_sales(conn):
    # purchases (current versions): 201 v2 25 x 1.5 = 37.50 GBP (Jan), 202 3 x 100.125 = 300.375 USD (Feb),
    # 203 9 x 4 = 36 GBP (May, a month without sales)
    assert rows(conn, "purchases_vs_sales") == [
        (date(2023, 4, 1), "USD", D("1000.00"), D("0"), D("1000.00")),
        (date(2024, 1, 1), "GBP", D("30.00"), D("37.50"), D("-7.50")),
        (date(2024, 1, 1), "USD", D("50.00"), D("0"), D("50.00")),
        (date(2024, 2, 1), "GBP", D("22.75"), D("0"), D("22.75")),
        (date(2024, 2, 1), "USD", D("99.00"), D("300.375"), D("-201.375")),
        (date(2024, 3, 1), "GBP", D("33.00"), D("0"), D("33.00")),
        (date(2024, 3, 1), "USD", D("80.00"), D("0"), D("80.00")),
        (date(2024, 4, 1), "GBP", D("1480.00"), D("0"), D("1480.00")),
        (date(2024, 5, 1), "GBP", D("0"), D("36"), D("-36")),
    ]


def test_latest_order_and_its_history(conn):
    # record 15, the last inserted, is order 100's only version
    assert rows(conn, "latest_order") == [(100, 1)]
    history = run_query(conn, "order_history", sales_order_id=107).select(
        "version", "sales_record_id", "units_sold", "sales_value", "is_current"
    )
    # three versions of 107; records 11 and 12 share a last-updated time, the higher record id is current
    assert [tuple(r.values()) for r in history.to_dicts()] == [
        (1, 10, 2, D("100.00"), False),
        (2, 11, 3, D("150.00"), False),
        (3, 12, 1, D("50.00"), True),
    ]
