"""Every dashboard query against a small seeded warehouse, checked against answers computed in Python
from the inserted rows (never by re-running the SQL)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from reveries_pipeline.dashboard import queries
from reveries_pipeline.dashboard.queries import QUERY_NAMES, load_query, run_query
from reveries_pipeline_tests.dashboard.warehouse_fixture import (
    AS_OF,
    COUNTERPARTIES,
    CURRENCIES,
    DESIGNS,
    LEDGER,
    PAYMENTS,
    PURCHASES,
    SALES,
    STAFF,
    D,
    seed_warehouse,
)


def current(rows, id_index: int, key):
    """The newest version per natural id: greatest (last_updated_date, last_updated_time, record_id)."""
    best: dict[int, tuple] = {}
    for row in rows:
        if row[id_index] not in best or key(row) > key(best[row[id_index]]):
            best[row[id_index]] = row
    return list(best.values())


def current_sales():
    return current(SALES, 1, lambda r: (r[3], r[4], r[0]))


def current_purchases():
    return current(PURCHASES, 1, lambda r: (r[3], r[4], r[0]))


def current_payments():
    return current(PAYMENTS, 1, lambda r: (r[3], r[4], r[0]))


def in_filter(created: date, currency_id: int, f: dict) -> bool:
    return (
        (f.get("date_from") is None or created >= f["date_from"])
        and (f.get("date_to") is None or created <= f["date_to"])
        and (f.get("currency") in (None, "all") or CURRENCIES[currency_id] == f["currency"])
    )


def filtered_sales(f):
    return [r for r in current_sales() if in_filter(r[2], r[9], f)]


def value(r) -> Decimal:
    return r[7] * r[8]


def month(d: date) -> date:
    return d.replace(day=1)


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


def test_indexes_apply_idempotently(conn):
    assert queries.apply_indexes(conn)
    assert queries.apply_indexes(conn)
    names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%current_idx'")}
    assert names == {
        "fact_sales_order_current_idx",
        "fact_purchase_order_current_idx",
        "fact_payment_current_idx",
    }


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
    used = {r[9] for r in SALES} | {r[10] for r in PURCHASES}
    assert run_query(conn, "currencies")["currency_code"].to_list() == sorted(CURRENCIES[c] for c in used)


def test_date_bounds(conn):
    dates = [r[2] for r in SALES] + [r[2] for r in PURCHASES]
    assert rows(run_query(conn, "date_bounds")) == [{"first_date": min(dates), "last_date": max(dates)}]


@pytest.mark.parametrize("f", FILTERS)
def test_headline(conn, f):
    sales = filtered_sales(f)
    expected = {
        "sales_value": sum((value(r) for r in sales), D(0)),
        "orders": len(sales),
        "units_sold": sum(r[7] for r in sales),
    }
    assert rows(run_query(conn, "headline", **f)) == [expected]


def test_headline_counts_current_versions_only(conn):
    got = rows(run_query(conn, "headline"))[0]
    assert got["orders"] == len({r[1] for r in SALES}) == 10
    # 101 v2 + 102 + 103 (not the late old version) + 104 + 105 v2 (USD) + 106 + 107 (record 12)
    # + 108 + 109 + 100
    assert got["sales_value"] == sum(
        (D(x) for x in ("30.00", "50.00", "22.75", "99.00", "80.00", "33.00", "50.00", "230.00", "1200.00", "1000.00")),
        D(0),
    )


@pytest.mark.parametrize("f", FILTERS)
def test_sales_by_month(conn, f):
    acc: dict[tuple, list] = defaultdict(lambda: [D(0), 0, 0])
    for r in filtered_sales(f):
        a = acc[(month(r[2]), CURRENCIES[r[9]])]
        a[0] += value(r)
        a[1] += 1
        a[2] += r[7]
    expected = [
        {"month": m, "currency_code": c, "sales_value": v, "orders": o, "units_sold": u}
        for (m, c), (v, o, u) in sorted(acc.items())
    ]
    assert rows(run_query(conn, "sales_by_month", **f)) == expected


def _designs(f):
    acc: dict[int, list] = defaultdict(lambda: [D(0), 0, 0])
    for r in filtered_sales(f):
        acc[r[10]][0] += value(r)
        acc[r[10]][1] += r[7]
        acc[r[10]][2] += 1
    return [
        {"design_id": d, "design_name": DESIGNS[d], "sales_value": v, "units_sold": u, "orders": o}
        for d, (v, u, o) in acc.items()
    ]


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize("limit", [None, 2])
def test_top_designs(conn, f, limit):
    designs = _designs(f)
    by_value = sorted(designs, key=lambda d: (-d["sales_value"], -d["units_sold"], d["design_id"]))
    by_units = sorted(designs, key=lambda d: (-d["units_sold"], -d["sales_value"], d["design_id"]))
    assert rows(run_query(conn, "top_designs_by_value", limit=limit, **f)) == by_value[:limit]
    assert rows(run_query(conn, "top_designs_by_units", limit=limit, **f)) == by_units[:limit]


def test_top_designs_differ_by_value_and_units(conn):
    assert (
        run_query(conn, "top_designs_by_value", limit=1)["design_name"].to_list()
        != run_query(conn, "top_designs_by_units", limit=1)["design_name"].to_list()
    )


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize(("limit", "offset"), [(None, None), (1, 0), (2, 1), (5, 10)])
def test_sales_by_location(conn, f, limit, offset):
    acc: dict[tuple, list] = defaultdict(lambda: [D(0), 0, 0])
    for r in filtered_sales(f):
        _, city, country = COUNTERPARTIES[r[6]]
        acc[(country, city)][0] += value(r)
        acc[(country, city)][1] += 1
        acc[(country, city)][2] += r[7]
    full = sorted(([k, v] for k, v in acc.items()), key=lambda kv: (-kv[1][0], kv[0][0], kv[0][1]))
    expected = [
        {
            "country": k[0],
            "city": k[1],
            "sales_value": v[0],
            "orders": v[1],
            "units_sold": v[2],
            "total_rows": len(full),
        }
        for k, v in full
    ]
    start = offset or 0
    page = expected[start : start + limit] if limit is not None else expected[start:]
    assert rows(run_query(conn, "sales_by_location", limit=limit, offset=offset, **f)) == page


@pytest.mark.parametrize("f", FILTERS)
@pytest.mark.parametrize(("limit", "offset"), [(None, None), (1, 1)])
def test_staff_leaderboard(conn, f, limit, offset):
    acc: dict[int, list] = defaultdict(lambda: [D(0), 0, 0])
    for r in filtered_sales(f):
        acc[r[5]][0] += value(r)
        acc[r[5]][1] += 1
        acc[r[5]][2] += r[7]
    values = [v[0] for v in acc.values()]
    expected = sorted(
        (
            {
                "rank": 1 + sum(1 for x in values if x > v[0]),
                "staff_id": s,
                "staff_name": f"{STAFF[s][0]} {STAFF[s][1]}",
                "department_name": STAFF[s][2],
                "location": STAFF[s][3],
                "sales_value": v[0],
                "orders": v[1],
                "units_sold": v[2],
                "total_rows": len(acc),
            }
            for s, v in acc.items()
        ),
        key=lambda d: (-d["sales_value"], d["staff_id"]),
    )
    start = offset or 0
    page = expected[start : start + limit] if limit is not None else expected[start:]
    assert rows(run_query(conn, "staff_leaderboard", limit=limit, offset=offset, **f)) == page


def _ageing(as_of: date):
    acc: dict[tuple, list] = {}
    for r in current_payments():
        paid, payment_date = r[10], r[11]
        if paid or payment_date >= as_of:
            continue
        days = (as_of - payment_date).days
        bucket, order = (
            ("0-30", 1) if days <= 30 else ("31-60", 2) if days <= 60 else ("61-90", 3) if days <= 90 else ("90+", 4)
        )
        a = acc.setdefault((order, CURRENCIES[r[8]], bucket), [0, D(0), payment_date])
        a[0] += 1
        a[1] += r[7]
        a[2] = min(a[2], payment_date)
    return [
        {
            "bucket": b,
            "bucket_order": o,
            "currency_code": c,
            "payments": n,
            "amount": amt,
            "oldest_payment_date": oldest,
        }
        for (o, c, b), (n, amt, oldest) in sorted(acc.items())
    ]


@pytest.mark.parametrize("as_of", [AS_OF, date(2024, 3, 2), date(2025, 1, 1)])
def test_outstanding_payments(conn, as_of):
    expected = _ageing(as_of)
    assert expected, "the seed has overdue payments at every as_of tested"
    assert rows(run_query(conn, "outstanding_payments", as_of=as_of)) == expected


def test_outstanding_payments_buckets_at_as_of(conn):
    got = rows(run_query(conn, "outstanding_payments", as_of=AS_OF))
    # every bucket is populated by the seed; 312 (due on as_of), 308 (future) and paid ones excluded
    assert {r["bucket"] for r in got} == {"0-30", "31-60", "61-90", "90+"}
    assert sum(r["payments"] for r in got) == 8


def test_outstanding_payments_default_as_of_is_today(conn):
    assert rows(run_query(conn, "outstanding_payments")) == _ageing(date.today())


@pytest.mark.parametrize("f", FILTERS)
def test_purchases_vs_sales(conn, f):
    acc: dict[tuple, list] = defaultdict(lambda: [D(0), D(0)])
    for r in filtered_sales(f):
        acc[(month(r[2]), CURRENCIES[r[9]])][0] += value(r)
    for p in current_purchases():
        if in_filter(p[2], p[10], f):
            acc[(month(p[2]), CURRENCIES[p[10]])][1] += p[8] * p[9]
    expected = [
        {"month": m, "currency_code": c, "sales_value": s, "purchase_value": p, "net_value": s - p}
        for (m, c), (s, p) in sorted(acc.items())
    ]
    assert rows(run_query(conn, "purchases_vs_sales", **f)) == expected


def test_latest_order(conn, make_database):
    newest = max(SALES, key=lambda r: r[0])
    expected = {"sales_order_id": newest[1], "versions": sum(1 for r in SALES if r[1] == newest[1])}
    assert rows(run_query(conn, "latest_order")) == [expected]


@pytest.mark.parametrize("order_id", sorted({r[1] for r in SALES}) + [999])
def test_order_history(conn, order_id):
    versions = sorted((r for r in SALES if r[1] == order_id), key=lambda r: r[0])
    newest = next((r for r in current_sales() if r[1] == order_id), None)
    got = rows(run_query(conn, "order_history", sales_order_id=order_id))
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
