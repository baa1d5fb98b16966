"""A small, hand-made warehouse for the dashboard tests: rows whose answers the tests compute by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

import psycopg
from psycopg import sql

from reveries_pipeline.warehouse import reporting
from reveries_pipeline.warehouse.schema import warehouse_ddl

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
    # large figures, so the page shows thousands separators: 1,150 x 0.20 = 230.00 and 3 x 400.00 = 1,200.00
    (13, 108, date(2024, 4, 20), date(2024, 4, 20), time(8, 0), 1, 1, 1150, D("0.20"), 1, 4),
    (14, 109, date(2024, 4, 25), date(2024, 4, 25), time(8, 0), 2, 3, 3, D("400.00"), 1, 2),
    # an old order loaded late: exactly 12 months before the newest order (2024-04-25), so outside
    # the CLI summary's window (created_date > last day - 12 months) but inside the dashboard's bounds
    (15, 100, date(2023, 4, 25), date(2023, 4, 25), time(8, 0), 1, 2, 1000, D("1.00"), 2, 1),
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
# Euro reference rates, hand-chosen (not the ECB's): rate_day -> (rate_date, units of GBP and of USD one
# euro buys). EUR is 1 on every day. A weekend or TARGET holiday carries the latest earlier rate forward
# and says so in rate_date (2024-01-20 and 2024-02-03 are Saturdays, 2024-01-01 and 2024-05-01 TARGET
# holidays). 2024-02-28, the created date of order 104 (99.00 USD), deliberately has NO rate: its value
# is left out of converted figures and counted as unconverted.
RATES: dict[date, tuple[date, Decimal, Decimal]] = {
    date(2023, 4, 25): (date(2023, 4, 25), D("0.88"), D("1.10")),
    date(2023, 12, 29): (date(2023, 12, 29), D("0.86905"), D("1.1050")),
    date(2024, 1, 1): (date(2023, 12, 29), D("0.86905"), D("1.1050")),  # payments' created date
    date(2024, 1, 5): (date(2024, 1, 5), D("0.8600"), D("1.0900")),
    date(2024, 1, 10): (date(2024, 1, 10), D("0.8588"), D("1.0987")),
    date(2024, 1, 19): (date(2024, 1, 19), D("0.8570"), D("1.0887")),
    date(2024, 1, 20): (date(2024, 1, 19), D("0.8570"), D("1.0887")),
    date(2024, 2, 2): (date(2024, 2, 2), D("0.8520"), D("1.0800")),
    date(2024, 2, 3): (date(2024, 2, 2), D("0.8520"), D("1.0800")),
    date(2024, 2, 9): (date(2024, 2, 9), D("0.8540"), D("1.0784")),
    date(2024, 2, 10): (date(2024, 2, 9), D("0.8540"), D("1.0784")),
    date(2024, 3, 1): (date(2024, 3, 1), D("0.8570"), D("1.0830")),
    date(2024, 3, 15): (date(2024, 3, 15), D("0.8560"), D("1.0890")),
    date(2024, 4, 2): (date(2024, 4, 2), D("0.8595"), D("1.0752")),
    date(2024, 4, 19): (date(2024, 4, 19), D("0.8550"), D("1.0650")),
    date(2024, 4, 20): (date(2024, 4, 19), D("0.8550"), D("1.0650")),
    date(2024, 4, 25): (date(2024, 4, 25), D("0.8577"), D("1.0700")),
    date(2024, 4, 30): (date(2024, 4, 30), D("0.8564"), D("1.0665")),
    date(2024, 5, 1): (date(2024, 4, 30), D("0.8564"), D("1.0665")),
}
UNRATED_DAY = date(2024, 2, 28)


def rate_rows(rates: dict[date, tuple[date, Decimal, Decimal]]) -> list[tuple[str, date, date, Decimal]]:
    """RATES as reveries_fx_rate rows: (currency_code, rate_day, rate_date, units_per_eur)."""
    return [
        row
        for day, (rate_date, gbp, usd) in rates.items()
        for row in (("GBP", day, rate_date, gbp), ("USD", day, rate_date, usd), ("EUR", day, rate_date, D(1)))
    ]


LEDGER = [
    ("batch/1", "fact_sales_order", 15, datetime(2024, 6, 1, 10, 0, tzinfo=UTC)),
    ("batch/2", "fact_payment", 14, datetime(2024, 6, 2, 11, 30, tzinfo=UTC)),
    ("batch/3", "fact_purchase_order", 4, datetime(2024, 6, 1, 23, 59, tzinfo=UTC)),
]


def apply_ddl(conn: psycopg.Connection) -> None:
    conn.execute(warehouse_ddl())


def _insert_dim_date(conn: psycopg.Connection) -> None:
    """Every day of 2023-2025, so any date a row names exists."""
    conn.execute(
        "INSERT INTO dim_date SELECT d, extract(year FROM d), extract(month FROM d), extract(day FROM d),"
        " extract(isodow FROM d), to_char(d, 'FMDay'), to_char(d, 'FMMonth'), extract(quarter FROM d)"
        " FROM generate_series(date '2023-01-01', date '2025-12-31', interval '1 day') AS g(t),"
        " LATERAL (SELECT t::date AS d) AS x"
    )


def _insert_dimensions(cur: psycopg.Cursor) -> None:
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


FACT_RECORD_IDS = (
    ("fact_sales_order", "sales_record_id"),
    ("fact_purchase_order", "purchase_record_id"),
    ("fact_payment", "payment_record_id"),
)


def _insert_facts(cur: psycopg.Cursor) -> None:
    """The fact versions above, with their record ids; the id sequences then continue after them, as
    after a load."""
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
    for table, col in FACT_RECORD_IDS:
        cur.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence(%s, %s), max({col})) FROM {table}").format(
                col=sql.Identifier(col), table=sql.Identifier(table)
            ),
            (table, col),
        )


def seed_warehouse(dsn: str, *, ledger: bool = True) -> None:
    """Create the warehouse schema at `dsn` and insert the rows above."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        apply_ddl(conn)
        _insert_dim_date(conn)
        with conn.cursor() as cur:
            _insert_dimensions(cur)
            _insert_facts(cur)
            cur.executemany("INSERT INTO reveries_fx_rate VALUES (%s, %s, %s, %s)", rate_rows(RATES))
            if ledger:
                cur.executemany("INSERT INTO reveries_load_ledger VALUES (%s, %s, %s, %s)", LEDGER)
        refresh_derived(conn)


def refresh_derived(conn: psycopg.Connection) -> None:
    """What the loader keeps in step with its writes (current tables, pre-aggregates), after rows
    written by hand."""
    with conn.transaction():
        reporting.recompute_all(conn)
