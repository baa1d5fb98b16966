"""Money on the dashboard in a reporting currency: every money query against totals computed
independently in Python (model.py: its own rate lookup in the fixture's RATES, conversion through EUR in
Decimal, rounded once), in GBP, EUR and USD, over the whole range (the pre-aggregates) and over a date
range (the current orders of the range); a currency filter shows native figures; no query adds
different currencies together."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg
import pytest

from reveries_pipeline.dashboard.queries import run_query
from reveries_pipeline.warehouse import reporting
from reveries_pipeline_tests.dashboard import model
from reveries_pipeline_tests.dashboard.warehouse_fixture import AS_OF, RATES, UNRATED_DAY, seed_warehouse

WHOLE_RANGE = {}
A_RANGE = {"date_from": date(2024, 1, 15), "date_to": date(2024, 4, 22)}  # 102 .. 108, and 104 without a rate
RANGES = pytest.mark.parametrize("dates", [WHOLE_RANGE, A_RANGE], ids=["whole-range", "date-range"])
REPORTING = pytest.mark.parametrize("currency", ["GBP", "EUR", "USD"])


def rows(conn, name: str, **params) -> list[dict]:
    return run_query(conn, name, **params).to_dicts()


@RANGES
@REPORTING
def test_converted_totals_match_an_independent_computation(conn, dates, currency):
    expect = {
        "headline": model.headline(dates, currency),
        "sales_by_month": model.sales_by_month(dates, currency),
        "top_designs_by_value": model.designs(dates, currency, by="value"),
        "top_designs_by_units": model.designs(dates, currency, by="units"),
        "sales_by_location": model.locations(dates, currency),
        "staff_leaderboard": model.staff(dates, currency),
        "purchases_vs_sales": model.purchases_vs_sales(dates, currency),
    }
    for name, expected in expect.items():
        assert rows(conn, name, reporting_currency=currency, **dates) == expected, name
        assert {r["shown_in"] for r in expected} == {currency}


@REPORTING
@pytest.mark.parametrize("as_of", [AS_OF, date(2025, 1, 1)])
def test_outstanding_payments_converted(conn, currency, as_of):
    expected = model.outstanding(as_of, reporting=currency)
    assert rows(conn, "outstanding_payments", as_of=as_of, reporting_currency=currency) == expected
    # buckets hold payments in GBP, USD and EUR (at 2025-01-01 all ten fall in 90+): a native sum would differ
    assert expected


def test_the_reporting_currency_defaults_to_gbp(conn):
    assert rows(conn, "headline") == rows(conn, "headline", reporting_currency="GBP") == model.headline({}, "GBP")
    with pytest.raises(ValueError, match="reporting_currency 'JPY'"):
        run_query(conn, "headline", reporting_currency="JPY")


def test_an_order_without_a_rate_is_counted_not_converted(conn):
    # order 104 (99.00 USD, created 2024-02-28) is the one order whose created date has no rate
    [unrated] = [r for r in model.current_sales() if r[2] == UNRATED_DAY]
    assert unrated[1] == 104 and UNRATED_DAY not in RATES
    [head] = rows(conn, "headline")
    assert head["unconverted_orders"] == 1 and head["orders"] == 10
    feb = next(r for r in rows(conn, "sales_by_month") if r["month"] == date(2024, 2, 1))
    assert feb["unconverted_orders"] == 1 and feb["orders"] == 2
    # with the USD filter it is a native figure: nothing to convert, 104 is in the value
    [usd] = rows(conn, "headline", currency="USD")
    assert usd["unconverted_orders"] == 0 and usd["sales_value"] == Decimal("1229.00")


def test_rounded_once_not_per_order(conn):
    """The fixture's rates make rounding each order's converted value first give another total."""
    per_order = sum(
        (model.cents(v) for r in model.sales_rows() if (v := model.convert(r.value, r.code, r.created, "GBP"))),
        Decimal(0),
    )
    [head] = rows(conn, "headline", reporting_currency="GBP")
    # 2468.41 rounded once; 2468.42 had each order been rounded to pence first
    assert head["sales_value"] == model.headline({}, "GBP")[0]["sales_value"] != per_order


@RANGES
@pytest.mark.parametrize("currency", ["GBP", "USD", "EUR"])
def test_a_currency_filter_shows_native_figures(conn, dates, currency):
    f = {**dates, "currency": currency}
    for reporting_currency in ("GBP", "USD"):  # the reporting currency does not matter then
        params = {**f, "reporting_currency": reporting_currency}
        assert rows(conn, "headline", **params) == model.headline(f)
        assert rows(conn, "sales_by_month", **params) == model.sales_by_month(f)
        assert rows(conn, "top_designs_by_value", **params) == model.designs(f, by="value")
        assert rows(conn, "staff_leaderboard", **params) == model.staff(f)
        assert rows(conn, "sales_by_location", **params) == model.locations(f)
        assert rows(conn, "purchases_vs_sales", **params) == model.purchases_vs_sales(f)
        got = rows(conn, "outstanding_payments", as_of=AS_OF, currency=currency, reporting_currency=reporting_currency)
        assert got == model.outstanding(AS_OF, currency)
        assert {r["shown_in"] for r in got} == {currency}


MONEY_QUERIES = {
    "headline": "sales_value",
    "sales_by_month": "sales_value",
    "top_designs_by_value": "sales_value",
    "top_designs_by_units": "sales_value",
    "sales_by_location": "sales_value",
    "staff_leaderboard": "sales_value",
    "purchases_vs_sales": "purchase_value",
}


@pytest.fixture
def own_warehouse(make_database):
    dsn = make_database("dash_fx")
    seed_warehouse(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield conn


def answers(conn, **params) -> dict[str, list[dict]]:
    got = {name: rows(conn, name, **params) for name in MONEY_QUERIES}
    got["outstanding_payments"] = rows(conn, "outstanding_payments", as_of=AS_OF, **params)
    return got


def test_no_query_adds_currencies_together(own_warehouse):
    """Change only the USD rate of one day: native GBP and EUR figures stay put, and converted ones move
    exactly as the model says (only where USD orders of that day are)."""
    conn = own_warehouse
    native = {code: answers(conn, currency=code) for code in ("GBP", "USD", "EUR")}
    day = date(2024, 1, 20)  # order 102, 50.00 USD; no other order that day
    rates = {**RATES, day: (RATES[day][0], RATES[day][1], Decimal("1.2500"))}
    with conn.transaction():
        conn.execute(
            "UPDATE reveries_fx_rate SET units_per_eur = 1.2500 WHERE currency_code = 'USD' AND rate_day = %s", (day,)
        )
        reporting.recompute_aggregates(conn)  # what the FX rates' IO manager does

    assert {code: answers(conn, currency=code) for code in native} == native
    for currency in ("GBP", "EUR"):
        assert rows(conn, "headline", reporting_currency=currency) == model.headline({}, currency, rates)
        assert rows(conn, "headline", reporting_currency=currency) != model.headline({}, currency)
        assert rows(conn, "top_designs_by_value", reporting_currency=currency) == model.designs(
            {}, currency, rates=rates
        )
    # in USD the USD order is itself: only the GBP and EUR orders of that day would move, and there are none
    assert rows(conn, "headline", reporting_currency="USD") == model.headline({}, "USD")
