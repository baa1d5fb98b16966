"""Every dashboard query against a small seeded warehouse, checked against answers computed in Python
from the inserted rows (never by re-running the SQL)."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib import resources

import psycopg
import pytest

from reveries_pipeline.dashboard import queries
from reveries_pipeline.dashboard.queries import QUERY_NAMES, load_query, run_query

D = Decimal
AS_OF = date(2024, 6, 30)

CURRENCIES = {1: "GBP", 2: "USD", 3: "EUR"}
STAFF = {  # staff_id: (first, last, department, location)
    1: ("Ada", "Lovelace", "Sales", "Manchester"),
    2: ("Grace", "Hopper", "Sales", "Leeds"),
    3: ("Alan", "Turing", "Purchasing", "Leeds"),
}
COUNTERPARTIES = {  # id: (name, city, country)
    1: ("Fahey and Sons", "Aliso Viejo", "Austria"),
    2: ("Leannon Group", "Vienna", "Austria"),
    3: ("Kub Ltd", "Lyon", "France"),
}
DESIGNS = {1: "Wooden", 2: "Bronze", 3: "Soft", 4: "Granite"}

# Sales versions: (record_id, order_id, created, last_updated_date, last_updated_time, staff, counterparty,
# units, unit_price, currency_id, design_id)
SALES = [
    (1, 101, date(2024, 1, 5), date(2024, 1, 5), time(9, 0), 1, 1, 10, D("2.50"), 1, 1),
    (2, 101, date(2024, 1, 5), date(2024, 1, 9), time(9, 0), 1, 1, 12, D("2.50"), 1, 1),  # v2 is current
    (3, 102, date(2024, 1, 20), date(2024, 1, 20), time(10, 0), 2, 2, 5, D("10.00"), 2, 2),
    (4, 103, date(2024, 2, 3), date(2024, 2, 4), time(12, 0), 2, 3, 7, D("3.25"), 1, 3),
    # late-arriving older version of 103: inserted later, but not the current one
    (5, 103, date(2024, 2, 3), date(2024, 2, 3), time(12, 0), 1, 3, 99, D("1.00"), 2, 4),
    (6, 104, date(2024, 2, 28), date(2024, 2, 28), time(8, 0), 1, 2, 100, D("0.99"), 2, 4),
    (7, 105, date(2024, 3, 1), date(2024, 3, 1), time(8, 0), 2, 1, 4, D("25.00"), 1, 2),
    (8, 105, date(2024, 3, 1), date(2024, 3, 2), time(8, 0), 2, 1, 4, D("20.00"), 2, 2),  # currency changed
    (9, 106, date(2024, 3, 15), date(2024, 3, 15), time(8, 0), 1, 3, 30, D("1.10"), 1, 1),
    (10, 107, date(2024, 4, 2), date(2024, 4, 2), time(7, 0), 2, 2, 2, D("50.00"), 1, 3),
    (11, 107, date(2024, 4, 2), date(2024, 4, 2), time(7, 30), 2, 2, 3, D("50.00"), 1, 3),
    # same last-updated time as record 11: the higher record id wins
    (12, 107, date(2024, 4, 2), date(2024, 4, 2), time(7, 30), 2, 2, 1, D("50.00"), 1, 3),
]
# Purchases: (record_id, po_id, created, lu_date, lu_time, staff, counterparty, item_code, qty, price,
# currency)
PURCHASES = [
    (1, 201, date(2024, 1, 10), date(2024, 1, 10), time(9, 0), 3, 1, "ABC1", 20, D("1.5"), 1),
    (2, 201, date(2024, 1, 10), date(2024, 1, 11), time(9, 0), 3, 1, "ABC1", 25, D("1.5"), 1),
    (3, 202, date(2024, 2, 10), date(2024, 2, 10), time(9, 0), 3, 2, "XYZ9", 3, D("100.125"), 2),
    # a month without sales
    (4, 203, date(2024, 5, 1), date(2024, 5, 1), time(9, 0), 3, 3, "QQ77", 9, D("4"), 1),
]
# Payments: (record_id, payment_id, created, lu_date, lu_time, transaction, counterparty, amount, currency,
# payment_type, paid, payment_date)
PAYMENTS = [
    (1, 301, date(2024, 1, 1), date(2024, 1, 1), time(9), 1, 1, D("10.00"), 1, 1, False, date(2024, 6, 29)),
    (2, 302, date(2024, 1, 1), date(2024, 1, 1), time(9), 2, 1, D("20.00"), 1, 1, False, date(2024, 5, 31)),
    (3, 303, date(2024, 1, 1), date(2024, 1, 1), time(9), 3, 2, D("30.50"), 2, 1, False, date(2024, 5, 15)),
    (4, 304, date(2024, 1, 1), date(2024, 1, 1), time(9), 4, 2, D("40.00"), 1, 2, False, date(2024, 5, 1)),
    (5, 305, date(2024, 1, 1), date(2024, 1, 1), time(9), 5, 3, D("50.00"), 1, 2, False, date(2024, 4, 20)),
    (6, 306, date(2024, 1, 1), date(2024, 1, 1), time(9), 6, 3, D("60.00"), 2, 2, False, date(2024, 4, 1)),
    (7, 307, date(2024, 1, 1), date(2024, 1, 1), time(9), 7, 1, D("70.00"), 3, 1, False, date(2024, 3, 1)),
    (8, 308, date(2024, 1, 1), date(2024, 1, 1), time(9), 8, 1, D("80.00"), 1, 1, False, date(2024, 7, 15)),
    (9, 309, date(2024, 1, 1), date(2024, 1, 1), time(9), 9, 2, D("90.00"), 1, 1, True, date(2024, 2, 1)),
    (10, 310, date(2024, 1, 1), date(2024, 1, 1), time(9), 10, 2, D("100.00"), 1, 1, False, date(2024, 2, 1)),
    (11, 310, date(2024, 1, 1), date(2024, 2, 2), time(9), 10, 2, D("100.00"), 1, 1, True, date(2024, 2, 1)),
    (12, 311, date(2024, 1, 1), date(2024, 1, 1), time(9), 11, 3, D("110.00"), 2, 1, True, date(2024, 1, 10)),
    (
        13,
        311,
        date(2024, 1, 1),
        date(2024, 3, 3),
        time(9),
        11,
        3,
        D("111.00"),
        2,
        1,
        False,
        date(2024, 1, 10),
    ),
    (14, 312, date(2024, 1, 1), date(2024, 1, 1), time(9), 12, 3, D("5.00"), 1, 1, False, AS_OF),
]
LEDGER = [
    ("batch/1", "fact_sales_order", 12, datetime(2024, 6, 1, 10, 0, tzinfo=UTC)),
    ("batch/2", "fact_payment", 14, datetime(2024, 6, 2, 11, 30, tzinfo=UTC)),
    ("batch/3", "fact_purchase_order", 4, datetime(2024, 6, 1, 23, 59, tzinfo=UTC)),
]


def apply_ddl(conn: psycopg.Connection) -> None:
    conn.execute(resources.files("reveries_pipeline.warehouse").joinpath("ddl.sql").read_text())


def seed_warehouse(dsn: str, *, ledger: bool = True) -> None:
    """Create the warehouse schema at `dsn` and insert the rows above."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_ddl(conn)
        conn.execute(
            "INSERT INTO dim_date SELECT d, extract(year FROM d), extract(month FROM d), extract(day FROM d),"
            " extract(isodow FROM d), to_char(d, 'FMDay'), to_char(d, 'FMMonth'), extract(quarter FROM d)"
            " FROM generate_series(date '2023-01-01', date '2025-12-31', interval '1 day') AS g(t),"
            " LATERAL (SELECT t::date AS d) AS x"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO dim_currency VALUES (%s, %s, %s)",
                [(k, v, v + " name") for k, v in CURRENCIES.items()],
            )
            cur.executemany(
                "INSERT INTO dim_staff VALUES (%s, %s, %s, %s, %s, %s)",
                [(k, *v, f"{v[0].lower()}@terrifictotes.com") for k, v in STAFF.items()],
            )
            cur.executemany(
                "INSERT INTO dim_counterparty VALUES (%s, %s, '1 Road', NULL, NULL, %s, 'PC1', %s, '0123')",
                [(k, *v) for k, v in COUNTERPARTIES.items()],
            )
            cur.executemany(
                "INSERT INTO dim_design VALUES (%s, %s, '/designs', %s)",
                [(k, v, f"{v.lower()}.json") for k, v in DESIGNS.items()],
            )
            cur.execute("INSERT INTO dim_location VALUES (1, '1 Street', NULL, NULL, 'Leeds', 'LS1', 'UK', '0')")
            cur.executemany("INSERT INTO dim_payment_type VALUES (%s, %s)", [(1, "SALES_RECEIPT"), (2, "PURCHASE")])
            cur.executemany("INSERT INTO dim_transaction VALUES (%s, 'SALE', NULL, NULL)", [(t,) for t in range(1, 13)])
            cur.executemany(
                "INSERT INTO fact_sales_order VALUES (%s, %s, %s, '08:00', %s, %s, %s, %s, %s, %s, %s, %s,"
                " '2024-09-01', '2024-09-02', 1)",
                SALES,
            )
            cur.executemany(
                "INSERT INTO fact_purchase_order VALUES (%s, %s, %s, '08:00', %s, %s, %s, %s, %s, %s, %s, %s,"
                " '2024-09-01', '2024-09-02', 1)",
                PURCHASES,
            )
            cur.executemany(
                "INSERT INTO fact_payment VALUES (%s, %s, %s, '08:00', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                PAYMENTS,
            )
            if ledger:
                cur.executemany("INSERT INTO reveries_load_ledger VALUES (%s, %s, %s, %s)", LEDGER)
            for table, col in (
                ("fact_sales_order", "sales_record_id"),
                ("fact_purchase_order", "purchase_record_id"),
                ("fact_payment", "payment_record_id"),
            ):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{col}'), max({col})) FROM {table}")


# ---------------------------------------------------------------- independent answers in Python


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


@pytest.fixture(scope="module")
def seeded(pg_server, pg_admin_uri):
    """One seeded warehouse for the module (the queries only read)."""
    name = f"t_dash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = pg_server.get_uri(name)
    seed_warehouse(dsn)
    yield dsn
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def conn(seeded):
    with psycopg.connect(seeded, autocommit=True) as c:
        yield c


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
    assert got["orders"] == len({r[1] for r in SALES}) == 7
    # 101 v2 + 102 + 103 (not the late old version) + 104 + 105 v2 (USD) + 106 + 107 (record 12)
    assert got["sales_value"] == sum(
        (D(x) for x in ("30.00", "50.00", "22.75", "99.00", "80.00", "33.00", "50.00")), D(0)
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
