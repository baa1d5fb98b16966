"""The dashboard's queries on the hand-made warehouse (warehouse_fixture.py), against answers worked out
by hand: literal numbers, with the arithmetic in a comment. test_queries.py and test_conversion.py check
the same queries against answers computed in Python over many filters; this file pins the figures a
reader can verify.

The current version of each sales order (created, staff, counterparty, units x price = value, currency,
design), and its value in GBP, the default reporting currency: value x GBP per EUR / currency per EUR at
the created date's rate (RATES in warehouse_fixture.py; shown to 6 places, summed unrounded, rounded
once at the end). With currency "All" the panels show GBP; filtered to one currency, native values.

    100  2023-04-25  Ada    Vienna       1000 x  1.00 = 1000.00  USD  Wooden    1000 x 0.88 / 1.10 = 800.000000
    101  2024-01-05  Ada    Aliso Viejo    12 x  2.50 =   30.00  GBP  Wooden      30.000000  (version 2 of 2)
    102  2024-01-20  Grace  Vienna          5 x 10.00 =   50.00  USD  Bronze    50 x 0.8570 / 1.0887 = 39.358868
                                                                                 (a Saturday: Friday 01-19's rate)
    103  2024-02-03  Grace  Lyon            7 x  3.25 =   22.75  GBP  Soft        22.750000  (not the late old version)
    104  2024-02-28  Ada    Vienna        100 x  0.99 =   99.00  USD  Granite   no rate that day: unconverted
    105  2024-03-01  Grace  Aliso Viejo     4 x 20.00 =   80.00  USD  Bronze    80 x 0.8570 / 1.0830 = 63.305633
                                                                                 (version 2: GBP -> USD)
    106  2024-03-15  Ada    Lyon           30 x  1.10 =   33.00  GBP  Wooden      33.000000
    107  2024-04-02  Grace  Vienna          1 x 50.00 =   50.00  GBP  Soft        50.000000  (record 12 wins a tie)
    108  2024-04-20  Ada    Aliso Viejo  1150 x  0.20 =  230.00  GBP  Granite    230.000000
    109  2024-04-25  Grace  Lyon            3 x400.00 = 1200.00  GBP  Bronze    1200.000000
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
        # converted to GBP: 800 + 30 + 39.358868 + 22.75 + 63.305633 + 33 + 50 + 230 + 1200 = 2468.414501;
        # 10 orders, 104 among them but left out of the value; units 1000+12+5+7+100+4+30+1+1150+3 = 2312
        (ALL, (D("2468.41"), 10, 2312, "GBP", 1)),
        # native: 101, 103, 106, 107, 108, 109: 30 + 22.75 + 33 + 50 + 230 + 1200 = 1565.75; 12+7+30+1+1150+3
        (GBP, (D("1565.75"), 6, 1203, "GBP", 0)),
        # native: 100, 102, 104, 105: 1000 + 50 + 99 + 80 = 1229.00 (104 is in: nothing to convert)
        (USD, (D("1229.00"), 4, 1109, "USD", 0)),
        ({"currency": "EUR"}, (D("0"), 0, 0, "EUR", 0)),  # no EUR sales: zeros, not NULLs
        # Feb-Mar 2024 in GBP: 103, 104 (unconverted), 105, 106: 22.75 + 63.305633 + 33 = 119.055633;
        # units 7 + 100 + 4 + 30 = 141
        ({"date_from": date(2024, 2, 1), "date_to": date(2024, 3, 31)}, (D("119.06"), 4, 141, "GBP", 1)),
        # the same in EUR: 22.75 / 0.8520 + 80 / 1.0830 + 33 / 0.8560 = 26.701878 + 73.868883 + 38.551402
        (
            {"date_from": date(2024, 2, 1), "date_to": date(2024, 3, 31), "reporting_currency": "EUR"},
            (D("139.12"), 4, 141, "EUR", 1),
        ),
    ],
    ids=["all", "GBP", "USD", "EUR", "feb-mar", "feb-mar-in-EUR"],
)
def test_headline(conn, filters, expected):
    assert rows(conn, "headline", **filters) == [expected]


def test_sales_by_month(conn):
    # one series, in GBP: (month, value, orders, units, shown in, orders without a rate)
    assert rows(conn, "sales_by_month") == [
        (date(2023, 4, 1), D("800.00"), 1, 1000, "GBP", 0),
        (date(2024, 1, 1), D("69.36"), 2, 17, "GBP", 0),  # 101 + 102: 30 + 39.358868
        (date(2024, 2, 1), D("22.75"), 2, 107, "GBP", 1),  # 103, and 104 without a rate
        (date(2024, 3, 1), D("96.31"), 2, 34, "GBP", 0),  # 105 + 106: 63.305633 + 33
        (date(2024, 4, 1), D("1480.00"), 3, 1154, "GBP", 0),  # 107, 108, 109: 50 + 230 + 1200; 1 + 1150 + 3
    ]
    # filtered to USD: that currency's native series
    assert rows(conn, "sales_by_month", **USD) == [
        (date(2023, 4, 1), D("1000.00"), 1, 1000, "USD", 0),
        (date(2024, 1, 1), D("50.00"), 1, 5, "USD", 0),
        (date(2024, 2, 1), D("99.00"), 1, 100, "USD", 0),
        (date(2024, 3, 1), D("80.00"), 1, 4, "USD", 0),
    ]


# (design_id, name, sales value in GBP, units, orders, shown in, orders without a rate):
# Bronze  102 + 105 + 109: 39.358868 + 63.305633 + 1200 = 1302.664501; 5 + 4 + 3 = 12 units
# Wooden  100 + 101 + 106: 800 + 30 + 33 = 863.00; 1000 + 12 + 30 = 1042 units
# Granite 104 + 108: 230 (104 has no rate); 100 + 1150 = 1250 units
# Soft    103 + 107: 22.75 + 50 = 72.75; 7 + 1 = 8 units
BRONZE = (2, "Bronze", D("1302.66"), 12, 3, "GBP", 0)
WOODEN = (1, "Wooden", D("863.00"), 1042, 3, "GBP", 0)
GRANITE = (4, "Granite", D("230.00"), 1250, 2, "GBP", 1)
SOFT = (3, "Soft", D("72.75"), 8, 2, "GBP", 0)


def test_top_designs(conn):
    assert rows(conn, "top_designs_by_value") == [BRONZE, WOODEN, GRANITE, SOFT]
    assert rows(conn, "top_designs_by_units") == [GRANITE, WOODEN, BRONZE, SOFT]
    assert rows(conn, "top_designs_by_value", limit=2) == [BRONZE, WOODEN]
    # GBP only, native: Bronze 1200 (109), Granite 230 (108), Soft 22.75 + 50 = 72.75, Wooden 30 + 33 = 63
    assert rows(conn, "top_designs_by_value", **GBP) == [
        (2, "Bronze", D("1200.00"), 3, 1, "GBP", 0),
        (4, "Granite", D("230.00"), 1150, 1, "GBP", 0),
        (3, "Soft", D("72.75"), 8, 2, "GBP", 0),
        (1, "Wooden", D("63.00"), 42, 2, "GBP", 0),
    ]


def test_sales_by_location(conn):
    # in GBP: Lyon 103 + 106 + 109: 22.75 + 33 + 1200 = 1255.75, units 7 + 30 + 3 = 40
    # Vienna 100 + 102 + 104 + 107: 800 + 39.358868 + (104 unconverted) + 50 = 889.358868, units 1106
    # Aliso Viejo 101 + 105 + 108: 30 + 63.305633 + 230 = 323.305633, units 12 + 4 + 1150 = 1166
    assert rows(conn, "sales_by_location") == [
        ("France", "Lyon", D("1255.75"), 3, 40, "GBP", 0, 3),
        ("Austria", "Vienna", D("889.36"), 4, 1106, "GBP", 1, 3),
        ("Austria", "Aliso Viejo", D("323.31"), 3, 1166, "GBP", 0, 3),
    ]
    assert rows(conn, "sales_by_location", limit=1, offset=1) == [
        ("Austria", "Vienna", D("889.36"), 4, 1106, "GBP", 1, 3)
    ]


def test_staff_leaderboard(conn):
    # in GBP: Grace 102 + 103 + 105 + 107 + 109: 39.358868 + 22.75 + 63.305633 + 50 + 1200 = 1375.414501,
    # units 5 + 7 + 4 + 1 + 3 = 20; Ada 100 + 101 + 104 + 106 + 108: 800 + 30 + (unconverted) + 33 + 230
    # = 1093.00, units 1000 + 12 + 100 + 30 + 1150 = 2292
    assert rows(conn, "staff_leaderboard") == [
        (1, 2, "Grace Hopper", "Sales", "Leeds", D("1375.41"), 5, 20, "GBP", 0, 2),
        (2, 1, "Ada Lovelace", "Sales", "Manchester", D("1093.00"), 5, 2292, "GBP", 1, 2),
    ]


def test_outstanding_payments_at_june_30(conn):
    # Unpaid current versions due before 2024-06-30, days overdue = 06-30 minus the payment date:
    # 301 06-29 (1 day) and 302 05-31 (30) GBP; 303 05-15 (46) USD; 304 05-01 (60) GBP; 305 04-20 (71) GBP;
    # 306 04-01 (90) USD; 307 03-01 (121) EUR; 311 v2 unpaid 01-10 (172) USD.
    # Left out: 308 (due 07-15), 309 and 310 v2 (paid), 312 (due on the day itself).
    # All were created 2024-01-01, a TARGET holiday: the rates of 2023-12-29, GBP 0.86905 and USD 1.1050.
    assert rows(conn, "outstanding_payments", as_of=date(2024, 6, 30)) == [
        ("0-30", 1, 2, D("30.00"), "GBP", 0, date(2024, 5, 31)),  # 10 + 20
        # 30.50 x 0.86905 / 1.1050 = 23.987353, + 40
        ("31-60", 2, 2, D("63.99"), "GBP", 0, date(2024, 5, 1)),
        # 50 + 60 x 0.86905 / 1.1050 = 50 + 47.188235
        ("61-90", 3, 2, D("97.19"), "GBP", 0, date(2024, 4, 1)),
        # 70 x 0.86905 = 60.8335, + 111 x 0.86905 / 1.1050 = 87.298235
        ("90+", 4, 2, D("148.13"), "GBP", 0, date(2024, 1, 10)),
    ]
    # filtered to USD: 303, 306 and 311 v2, native
    assert rows(conn, "outstanding_payments", as_of=date(2024, 6, 30), **USD) == [
        ("31-60", 2, 1, D("30.50"), "USD", 0, date(2024, 5, 15)),
        ("61-90", 3, 1, D("60.00"), "USD", 0, date(2024, 4, 1)),
        ("90+", 4, 1, D("111.00"), "USD", 0, date(2024, 1, 10)),
    ]


def test_purchases_vs_sales(conn):
    # purchases (current versions): 201 v2 25 x 1.5 = 37.50 GBP (Jan), 202 3 x 100.125 = 300.375 USD (Feb,
    # a Saturday: 300.375 x 0.8540 / 1.0784 = 237.871152 GBP), 203 9 x 4 = 36 GBP (May, a month without sales)
    assert rows(conn, "purchases_vs_sales") == [
        (date(2023, 4, 1), D("800.00"), D("0"), D("800.00"), "GBP", 0),
        (date(2024, 1, 1), D("69.36"), D("37.50"), D("31.86"), "GBP", 0),  # 69.358868 - 37.50
        (date(2024, 2, 1), D("22.75"), D("237.87"), D("-215.12"), "GBP", 1),  # 22.75 - 237.871152; 104 unrated
        (date(2024, 3, 1), D("96.31"), D("0"), D("96.31"), "GBP", 0),
        (date(2024, 4, 1), D("1480.00"), D("0"), D("1480.00"), "GBP", 0),
        (date(2024, 5, 1), D("0"), D("36.00"), D("-36.00"), "GBP", 0),
    ]
    # filtered to USD, native: 300.375 and 99 - 300.375 = -201.375 are rounded once, half away from zero
    assert rows(conn, "purchases_vs_sales", **USD) == [
        (date(2023, 4, 1), D("1000.00"), D("0"), D("1000.00"), "USD", 0),
        (date(2024, 1, 1), D("50.00"), D("0"), D("50.00"), "USD", 0),
        (date(2024, 2, 1), D("99.00"), D("300.38"), D("-201.38"), "USD", 0),
        (date(2024, 3, 1), D("80.00"), D("0"), D("80.00"), "USD", 0),
    ]


def test_latest_order_and_its_history(conn):
    # record 15, the last inserted, is order 100's only version
    assert rows(conn, "latest_order") == [(100, 1)]
    history = run_query(conn, "order_history", sales_order_id=107).select(
        "version", "sales_record_id", "units_sold", "sales_value", "converted_value", "is_current"
    )
    # three versions of 107 (GBP, created 2024-04-02); records 11 and 12 share a last-updated time, the
    # higher record id is current; GBP in GBP is itself
    assert [tuple(r.values()) for r in history.to_dicts()] == [
        (1, 10, 2, D("100.00"), D("100.00"), False),
        (2, 11, 3, D("150.00"), D("150.00"), False),
        (3, 12, 1, D("50.00"), D("50.00"), True),
    ]
    # order 105 in EUR: version 1 is 4 x 25.00 = 100.00 GBP, 100 / 0.8570 = 116.686114; version 2
    # 80.00 USD, 80 / 1.0830 = 73.868883; the rate of 2024-03-01
    history = run_query(conn, "order_history", sales_order_id=105, reporting_currency="EUR")
    assert history.select("currency_code", "converted_value", "shown_in", "rate_date").rows() == [
        ("GBP", D("116.69"), "EUR", date(2024, 3, 1)),
        ("USD", D("73.87"), "EUR", date(2024, 3, 1)),
    ]
