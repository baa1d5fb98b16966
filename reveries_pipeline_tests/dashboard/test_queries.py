"""Every dashboard query against a small seeded warehouse, checked against answers computed in Python
from the inserted rows (model.py, never by re-running the SQL), over many filters: with no currency
filter money is converted into GBP (the default reporting currency; test_conversion.py covers EUR and
USD), with one it is native."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from reveries_pipeline.dashboard import queries
from reveries_pipeline.dashboard.queries import QUERY_NAMES, load_query, run_query
from reveries_pipeline_tests.dashboard import model
from reveries_pipeline_tests.dashboard.warehouse_fixture import (
    AS_OF,
    CURRENCIES,
    DESIGNS,
    LEDGER,
    RATES,
    SALES,
    D,
    seed_warehouse,
)

current_sales = model.current_sales
current_purchases = model.current_purchases
current_payments = model.current_payments


def value(r) -> Decimal:
    return r[7] * r[8]


FILTERS = [
    {},
    {"currency": "GBP"},
    {"currency": "USD"},
    {"currency": "all"},
    {"date_from": date(2024, 2, 1), "date_to": date(2024, 3, 31)},
    {"date_from": date(2024, 2, 1), "currency": "GBP"},
    {"date_to": date(2024, 1, 31), "currency": "EUR"},
]


def rows(frame):
    return frame.to_dicts()


# ---------------------------------------------------------------- the files themselves


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_every_query_file_is_standalone_and_documented(name):
    text = load_query(name)
    assert text.startswith(f"-- {name}:"), "header comment names the query and its question"
    header = [line for line in text.splitlines() if line.startswith("--")]
    assert any("Parameters" in line for line in header)
    for param in queries.query_parameters(name):
        assert any(param in line for line in header), f"parameter {param} documented in the header"
    # a stray percent sign would be read as a placeholder by psycopg
    assert re.sub(r"%\(\w+\)s", "", text).count("%") == 0
    assert "%(" not in queries.psql_text(name)


def test_unknown_parameters_are_refused(conn):
    with pytest.raises(TypeError):
        run_query(conn, "headline", currenc="GBP")


def test_warehouse_ready(conn, make_database):
    assert queries.warehouse_ready(conn)
    with psycopg.connect(make_database("empty"), autocommit=True) as empty:
        assert not queries.warehouse_ready(empty)


# ---------------------------------------------------------------- the answers


def test_last_loaded(conn, make_database):
    got = rows(run_query(conn, "last_loaded"))
    assert got == [{"last_loaded_at": max(r[3] for r in LEDGER)}]
    dsn = make_database("noledger")
    seed_warehouse(dsn, ledger=False)
    with psycopg.connect(dsn) as c:
        assert rows(run_query(c, "last_loaded")) == [{"last_loaded_at": None}]


def test_currencies(conn):
    used = {r[9] for r in current_sales()} | {r[10] for r in current_purchases()}
    assert run_query(conn, "currencies")["currency_code"].to_list() == sorted(CURRENCIES[c] for c in used)


def test_date_bounds(conn):
    dates = [r[2] for r in current_sales()] + [r[2] for r in current_purchases()]
    assert rows(run_query(conn, "date_bounds")) == [{"first_date": min(dates), "last_date": max(dates)}]


@pytest.mark.parametrize("f", FILTERS)
def test_headline(conn, f):
    assert rows(run_query(conn, "headline", **f)) == model.headline(f)


def test_headline_counts_current_versions_only(conn):
    got = rows(run_query(conn, "headline", currency="GBP"))[0]
    # 101 v2 + 103 (not the late old version, which is USD) + 106 + 107 (record 12) + 108 + 109
    assert got["orders"] == 6
    assert got["sales_value"] == sum((D(x) for x in ("30.00", "22.75", "33.00", "50.00", "230.00", "1200.00")), D(0))
    assert rows(run_query(conn, "headline"))[0]["orders"] == len({r[1] for r in SALES}) == 10


@pytest.mark.parametrize("f", FILTERS)
def test_sales_by_month(conn, f):
    assert rows(run_query(conn, "sales_by_month", **f)) == model.sales_by_month(f)


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("limit", [None, 2])
def test_top_designs(conn, f, limit):
    by_value, by_units = model.designs(f, by="value"), model.designs(f, by="units")
    assert rows(run_query(conn, "top_designs_by_value", limit=limit, **f)) == by_value[:limit]
    assert rows(run_query(conn, "top_designs_by_units", limit=limit, **f)) == by_units[:limit]


def test_top_designs_differ_by_value_and_units(conn):
    assert (
        run_query(conn, "top_designs_by_value", limit=1)["design_name"].to_list()
        != run_query(conn, "top_designs_by_units", limit=1)["design_name"].to_list()
    )


def page(full: list[dict], limit, offset) -> list[dict]:
    start = offset or 0
    return full[start : start + limit] if limit is not None else full[start:]


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize(("limit", "offset"), [(None, None), (1, 0), (2, 1), (5, 10)])
def test_sales_by_location(conn, f, limit, offset):
    expected = page(model.locations(f), limit, offset)
    assert rows(run_query(conn, "sales_by_location", limit=limit, offset=offset, **f)) == expected


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize(("limit", "offset"), [(None, None), (1, 1)])
def test_staff_leaderboard(conn, f, limit, offset):
    expected = page(model.staff(f), limit, offset)
    assert rows(run_query(conn, "staff_leaderboard", limit=limit, offset=offset, **f)) == expected


@pytest.mark.parametrize("as_of", [AS_OF, date(2024, 3, 2), date(2025, 1, 1)])
@pytest.mark.parametrize("currency", [None, "USD"])
def test_outstanding_payments(conn, as_of, currency):
    expected = model.outstanding(as_of, currency)
    assert expected, "the seed has overdue payments at every as_of tested"
    assert rows(run_query(conn, "outstanding_payments", as_of=as_of, currency=currency)) == expected


def test_outstanding_payments_buckets_at_as_of(conn):
    got = rows(run_query(conn, "outstanding_payments", as_of=AS_OF))
    # every bucket is populated by the seed; 312 (due on as_of), 308 (future) and paid ones excluded
    assert [r["bucket"] for r in got] == ["0-30", "31-60", "61-90", "90+"]
    assert sum(r["payments"] for r in got) == 8


def test_outstanding_payments_default_as_of_is_today(conn):
    assert rows(run_query(conn, "outstanding_payments")) == model.outstanding(date.today())


@pytest.mark.parametrize("f", FILTERS)
def test_purchases_vs_sales(conn, f):
    assert rows(run_query(conn, "purchases_vs_sales", **f)) == model.purchases_vs_sales(f)


def test_latest_order(conn, make_database):
    newest = max(SALES, key=lambda r: r[0])
    expected = {"sales_order_id": newest[1], "versions": sum(1 for r in SALES if r[1] == newest[1])}
    assert rows(run_query(conn, "latest_order")) == [expected]


@pytest.mark.parametrize("order_id", sorted({r[1] for r in SALES}) + [999])
def test_order_history(conn, order_id):
    versions = sorted((r for r in SALES if r[1] == order_id), key=lambda r: r[0])
    newest = next((r for r in current_sales() if r[1] == order_id), None)
    got = rows(run_query(conn, "order_history", sales_order_id=order_id, reporting_currency="EUR"))
    assert [g["sales_record_id"] for g in got] == [r[0] for r in versions]
    assert [g["version"] for g in got] == list(range(1, len(versions) + 1))
    for g, r in zip(got, versions, strict=True):
        assert (g["units_sold"], g["unit_price"], g["currency_code"], g["design_name"], g["sales_value"]) == (
            r[7],
            r[8],
            CURRENCIES[r[9]],
            DESIGNS[r[10]],
            value(r),
        )
        assert g["is_current"] == (r is newest)
        converted = model.convert(value(r), CURRENCIES[r[9]], r[2], "EUR")
        assert g["converted_value"] == (model.cents(converted) if converted is not None else None)
        assert g["rate_date"] == (RATES[r[2]][0] if r[2] in RATES else None)
        assert g["shown_in"] == "EUR"
