"""The warehouse schema and loader against a real (embedded) PostgreSQL 18."""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal

import polars as pl
import psycopg
import pytest

from reveries_pipeline.warehouse import loader
from reveries_pipeline.warehouse.loader import LoadResult, load_batch, load_table_batches, pending_batch_keys
from reveries_pipeline.warehouse.schema import (
    FACT_VERSION_KEY,
    RECORD_ID,
    WAREHOUSE_TABLES,
    apply_warehouse_ddl,
    warehouse_ddl,
)

# ---------------------------------------------------------------------------------------------
# The documented schema, written out independently of ddl.sql.

I, D, T, V, N, B = (  # noqa: E741 - short type names keep the table below readable
    "integer",
    "date",
    "time without time zone",
    "character varying",
    "numeric",
    "boolean",
)
EXPECTED_COLUMNS: dict[str, list[tuple[str, str, bool]]] = {  # (column, type, nullable)
    "dim_date": [
        ("date_id", D, False),
        ("year", I, False),
        ("month", I, False),
        ("day", I, False),
        ("day_of_week", I, False),
        ("day_name", V, False),
        ("month_name", V, False),
        ("quarter", I, False),
    ],
    "dim_staff": [
        ("staff_id", I, False),
        ("first_name", V, False),
        ("last_name", V, False),
        ("department_name", V, False),
        ("location", V, False),
        ("email_address", V, False),
    ],
    "dim_location": [
        ("location_id", I, False),
        ("address_line_1", V, False),
        ("address_line_2", V, True),
        ("district", V, True),
        ("city", V, False),
        ("postal_code", V, False),
        ("country", V, False),
        ("phone", V, False),
    ],
    "dim_design": [
        ("design_id", I, False),
        ("design_name", V, False),
        ("file_location", V, False),
        ("file_name", V, False),
    ],
    "dim_currency": [("currency_id", I, False), ("currency_code", V, False), ("currency_name", V, False)],
    "dim_counterparty": [
        ("counterparty_id", I, False),
        ("counterparty_legal_name", V, False),
        ("counterparty_legal_address_line_1", V, False),
        ("counterparty_legal_address_line_2", V, True),
        ("counterparty_legal_district", V, True),
        ("counterparty_legal_city", V, False),
        ("counterparty_legal_postal_code", V, False),
        ("counterparty_legal_country", V, False),
        ("counterparty_legal_phone_number", V, False),
    ],
    "dim_payment_type": [("payment_type_id", I, False), ("payment_type_name", V, False)],
    "dim_transaction": [
        ("transaction_id", I, False),
        ("transaction_type", V, False),
        ("sales_order_id", I, True),
        ("purchase_order_id", I, True),
    ],
    "fact_sales_order": [
        ("sales_record_id", I, False),
        ("sales_order_id", I, False),
        ("created_date", D, False),
        ("created_time", T, False),
        ("last_updated_date", D, False),
        ("last_updated_time", T, False),
        ("sales_staff_id", I, False),
        ("counterparty_id", I, False),
        ("units_sold", I, False),
        ("unit_price", N, False),
        ("currency_id", I, False),
        ("design_id", I, False),
        ("agreed_payment_date", D, False),
        ("agreed_delivery_date", D, False),
        ("agreed_delivery_location_id", I, False),
    ],
    "fact_purchase_order": [
        ("purchase_record_id", I, False),
        ("purchase_order_id", I, False),
        ("created_date", D, False),
        ("created_time", T, False),
        ("last_updated_date", D, False),
        ("last_updated_time", T, False),
        ("staff_id", I, False),
        ("counterparty_id", I, False),
        ("item_code", V, False),
        ("item_quantity", I, False),
        ("item_unit_price", N, False),
        ("currency_id", I, False),
        ("agreed_delivery_date", D, False),
        ("agreed_payment_date", D, False),
        ("agreed_delivery_location_id", I, False),
    ],
    "fact_payment": [
        ("payment_record_id", I, False),
        ("payment_id", I, False),
        ("created_date", D, False),
        ("created_time", T, False),
        ("last_updated_date", D, False),
        ("last_updated", T, False),
        ("transaction_id", I, False),
        ("counterparty_id", I, False),
        ("payment_amount", N, False),
        ("currency_id", I, False),
        ("payment_type_id", I, False),
        ("paid", B, False),
        ("payment_date", D, False),
    ],
}
DATES = ("created_date", "last_updated_date", "agreed_payment_date", "agreed_delivery_date")
EXPECTED_FKS: dict[str, set[tuple[str, str, str]]] = {  # (column, referenced table, referenced column)
    "fact_sales_order": {
        *((c, "dim_date", "date_id") for c in DATES),
        ("sales_staff_id", "dim_staff", "staff_id"),
        ("counterparty_id", "dim_counterparty", "counterparty_id"),
        ("currency_id", "dim_currency", "currency_id"),
        ("design_id", "dim_design", "design_id"),
        ("agreed_delivery_location_id", "dim_location", "location_id"),
    },
    "fact_purchase_order": {
        *((c, "dim_date", "date_id") for c in DATES),
        ("staff_id", "dim_staff", "staff_id"),
        ("counterparty_id", "dim_counterparty", "counterparty_id"),
        ("currency_id", "dim_currency", "currency_id"),
        ("agreed_delivery_location_id", "dim_location", "location_id"),
    },
    "fact_payment": {
        *((c, "dim_date", "date_id") for c in ("created_date", "last_updated_date", "payment_date")),
        ("transaction_id", "dim_transaction", "transaction_id"),
        ("counterparty_id", "dim_counterparty", "counterparty_id"),
        ("currency_id", "dim_currency", "currency_id"),
        ("payment_type_id", "dim_payment_type", "payment_type_id"),
    },
}
VIEWS = {"fact_sales_order_current", "fact_purchase_order_current", "fact_payment_current"}
LEDGER = "reveries_load_ledger"


def _columns(conn, table):
    return [
        (name, dtype, nullable == "YES")
        for name, dtype, nullable in conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]


def _fks(conn, table):
    rows = conn.execute(
        """
        SELECT a.attname, c.confrelid::regclass::text, fa.attname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND c.conrelid = %s::regclass
        """,
        (table,),
    ).fetchall()
    return set(rows)


def _assert_schema(conn):
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    }
    assert tables == set(EXPECTED_COLUMNS) | {LEDGER, "reveries_schema_version"}
    assert set(WAREHOUSE_TABLES) == set(EXPECTED_COLUMNS)
    for table, expected in EXPECTED_COLUMNS.items():
        assert _columns(conn, table) == expected, table
    assert _columns(conn, LEDGER) == [
        ("batch_key", "text", False),
        ("table_name", "text", False),
        ("row_count", "bigint", False),
        ("loaded_at", "timestamp with time zone", False),
    ]
    for fact, fks in EXPECTED_FKS.items():
        assert _fks(conn, fact) == fks, fact
    views = {
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()"
        )
    }
    assert views == VIEWS


def test_apply_warehouse_ddl_creates_the_schema_and_is_idempotent(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        apply_warehouse_ddl(conn)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        apply_warehouse_ddl(conn)
        _assert_schema(conn)


def test_apply_warehouse_ddl_on_a_warehouse_built_beforehand(warehouse_dsn):
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute(warehouse_ddl().encode())  # built by hand, as an existing deployment would be
        _seed_dimensions(conn)
        conn.execute(
            "INSERT INTO fact_payment (payment_id, created_date, created_time, last_updated_date, "
            "last_updated, transaction_id, counterparty_id, payment_amount, currency_id, "
            "payment_type_id, paid, payment_date) VALUES (1, '2024-01-01', '10:00', '2024-01-01', "
            "'10:00', 1, 1, 1.00, 1, 1, true, '2024-01-02')"
        )
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
    with psycopg.connect(warehouse_dsn) as conn:
        _assert_schema(conn)
        assert _count(conn, "fact_payment") == 1
        assert _count(conn, "dim_staff") == 2


# ---------------------------------------------------------------------------------------------
# Processed frames.

DAY0 = dt.date(2024, 1, 1)


def dim_date_frame(days: int = 40) -> pl.DataFrame:
    dates = [DAY0 + dt.timedelta(days=i) for i in range(days)]
    return pl.DataFrame(
        {
            "date_id": dates,
            "year": [d.year for d in dates],
            "month": [d.month for d in dates],
            "day": [d.day for d in dates],
            "day_of_week": [d.isoweekday() for d in dates],
            "day_name": [d.strftime("%A") for d in dates],
            "month_name": [d.strftime("%B") for d in dates],
            "quarter": [(d.month - 1) // 3 + 1 for d in dates],
        },
        schema_overrides={c: pl.Int32 for c in ("year", "month", "day", "day_of_week", "quarter")},
    )


def _int32(frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.Int32) for c in cols)


def dim_staff_frame(rows=((1, "Ann", "Lee"), (2, "Bob", "Ray"))) -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "staff_id": [r[0] for r in rows],
                "first_name": [r[1] for r in rows],
                "last_name": [r[2] for r in rows],
                "department_name": ["Sales"] * len(rows),
                "location": ["Leeds"] * len(rows),
                "email_address": [f"s{r[0]}@terrifictotes.com" for r in rows],
            }
        ),
        "staff_id",
    )


def dim_location_frame(address_line_2=("Flat 1", None)) -> pl.DataFrame:
    n = len(address_line_2)
    return _int32(
        pl.DataFrame(
            {
                "location_id": list(range(1, n + 1)),
                "address_line_1": ["1 Road"] * n,
                "address_line_2": pl.Series(list(address_line_2), dtype=pl.String),
                "district": pl.Series([None] * n, dtype=pl.String),
                "city": ["Leeds"] * n,
                "postal_code": ["LS1"] * n,
                "country": ["UK"] * n,
                "phone": ["0113"] * n,
            }
        ),
        "location_id",
    )


def dim_design_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "design_id": [1, 2],
                "design_name": ["Wooden", "Steel"],
                "file_location": ["/usr", "/usr"],
                "file_name": ["a.json", "b.json"],
            }
        ),
        "design_id",
    )


def dim_currency_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "currency_id": [1, 2],
                "currency_code": ["GBP", "EUR"],
                "currency_name": ["Pound sterling", "Euro"],
            }
        ),
        "currency_id",
    )


def dim_counterparty_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "counterparty_id": [1, 2],
                "counterparty_legal_name": ["Fahey", "Leannon"],
                "counterparty_legal_address_line_1": ["605 Haskell", "079 Horacio"],
                "counterparty_legal_address_line_2": pl.Series([None, "Apt 2"], dtype=pl.String),
                "counterparty_legal_district": pl.Series([None, None], dtype=pl.String),
                "counterparty_legal_city": ["Aliso Viejo", "Utica"],
                "counterparty_legal_postal_code": ["99305", "11"],
                "counterparty_legal_country": ["Samoa", "Ghana"],
                "counterparty_legal_phone_number": ["1803", "1234"],
            }
        ),
        "counterparty_id",
    )


def dim_payment_type_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame({"payment_type_id": [1, 2], "payment_type_name": ["SALES_RECEIPT", "PURCHASE_PAYMENT"]}),
        "payment_type_id",
    )


def dim_transaction_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "transaction_id": [1, 2],
                "transaction_type": ["SALE", "PURCHASE"],
                "sales_order_id": [1, None],
                "purchase_order_id": [None, 1],
            }
        ),
        "transaction_id",
        "sales_order_id",
        "purchase_order_id",
    )


DIMENSIONS = {
    "dim_date": dim_date_frame,
    "dim_staff": dim_staff_frame,
    "dim_location": dim_location_frame,
    "dim_design": dim_design_frame,
    "dim_currency": dim_currency_frame,
    "dim_counterparty": dim_counterparty_frame,
    "dim_payment_type": dim_payment_type_frame,
    "dim_transaction": dim_transaction_frame,
}


def sales_frame(rows: list[dict]) -> pl.DataFrame:
    """Sales-order rows; each dict gives at least sales_order_id, the rest defaults to valid values."""
    base = {
        "created_date": DAY0,
        "created_time": dt.time(9, 0),
        "last_updated_date": DAY0,
        "last_updated_time": dt.time(9, 0),
        "sales_staff_id": 1,
        "counterparty_id": 1,
        "units_sold": 10,
        "unit_price": Decimal("2.50"),
        "currency_id": 1,
        "design_id": 1,
        "agreed_payment_date": DAY0 + dt.timedelta(days=3),
        "agreed_delivery_date": DAY0 + dt.timedelta(days=2),
        "agreed_delivery_location_id": 1,
    }
    full = [{"sales_order_id": r["sales_order_id"], **{k: r.get(k, v) for k, v in base.items()}} for r in rows]
    return pl.DataFrame(
        full,
        schema={
            "sales_order_id": pl.Int32,
            "created_date": pl.Date,
            "created_time": pl.Time,
            "last_updated_date": pl.Date,
            "last_updated_time": pl.Time,
            "sales_staff_id": pl.Int32,
            "counterparty_id": pl.Int32,
            "units_sold": pl.Int32,
            "unit_price": pl.Decimal(10, 2),
            "currency_id": pl.Int32,
            "design_id": pl.Int32,
            "agreed_payment_date": pl.Date,
            "agreed_delivery_date": pl.Date,
            "agreed_delivery_location_id": pl.Int32,
        },
    )


def _count(conn, table) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - test-owned names


def _seed_dimensions(conn) -> None:
    for table, make in DIMENSIONS.items():
        load_batch(conn, table, f"{table}/seed.parquet", make())


@pytest.fixture(params=["row-triggers", "bulk-fk"])
def fk_path(request, monkeypatch) -> str:
    """Runs a fact test through both foreign-key paths: per-row triggers, and drop/insert/re-add."""
    if request.param == "bulk-fk":
        monkeypatch.setattr(loader, "BULK_FK_MIN_ROWS", 1)
    return request.param


@pytest.fixture
def warehouse(warehouse_dsn):
    """A connection to a warehouse with the schema applied and every dimension seeded (committed)."""
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        _seed_dimensions(conn)
        conn.commit()
        yield conn


# ---------------------------------------------------------------------------------------------
# Loading.


def test_dimension_upsert_latest_values_win(warehouse):
    conn = warehouse
    assert _count(conn, "dim_staff") == 2
    changed = dim_staff_frame(((2, "Robert", "Ray"), (3, "Cat", "Fox")))
    result = load_table_batches(conn, "dim_staff", [("dim_staff/b2.parquet", changed)])
    conn.commit()
    assert result == LoadResult("dim_staff", ["dim_staff/b2.parquet"], [], 2)
    assert _count(conn, "dim_staff") == 3
    assert conn.execute("SELECT first_name FROM dim_staff WHERE staff_id = 2").fetchone() == ("Robert",)
    assert conn.execute("SELECT first_name FROM dim_staff WHERE staff_id = 1").fetchone() == ("Ann",)

    # Two batches (and a repeated key within one) in one call: the last row for a key wins.
    b3 = dim_staff_frame(((1, "Anne", "Lee"), (1, "Annie", "Lee")))
    b4 = dim_staff_frame(((1, "Anna", "Lee"),))
    result = load_table_batches(conn, "dim_staff", [("dim_staff/b3.parquet", b3), ("dim_staff/b4.parquet", b4)])
    conn.commit()
    assert result.batches_applied == ["dim_staff/b3.parquet", "dim_staff/b4.parquet"]
    assert _count(conn, "dim_staff") == 3
    assert conn.execute("SELECT first_name FROM dim_staff WHERE staff_id = 1").fetchone() == ("Anna",)

    # Unchanged rows are not rewritten (and not counted).
    again = load_table_batches(conn, "dim_staff", [("dim_staff/b5.parquet", b4)])
    assert again.rows_loaded == 0 and again.batches_applied == ["dim_staff/b5.parquet"]


def test_dim_date_overlapping_batches(warehouse):
    conn = warehouse
    result = load_table_batches(conn, "dim_date", [("dim_date/b2.parquet", dim_date_frame(45))])
    conn.commit()
    assert result.rows_loaded == 5
    assert _count(conn, "dim_date") == 45


def test_fact_versions_are_appended_and_current_view_shows_newest(warehouse, fk_path):
    conn = warehouse
    v1 = sales_frame([{"sales_order_id": 7, "units_sold": 10}, {"sales_order_id": 8}])
    v2 = sales_frame(
        [
            {
                "sales_order_id": 7,
                "units_sold": 20,
                "last_updated_date": DAY0 + dt.timedelta(days=1),
                "last_updated_time": dt.time(8, 0),
            }
        ]
    )
    result = load_table_batches(conn, "fact_sales_order", [("sales/b1.parquet", v1), ("sales/b2.parquet", v2)])
    conn.commit()
    assert result.rows_loaded == 3
    rows = conn.execute(
        "SELECT sales_record_id, units_sold FROM fact_sales_order WHERE sales_order_id = 7 ORDER BY sales_record_id"
    ).fetchall()
    assert [units for _, units in rows] == [10, 20]  # frame row order -> record id order
    assert len({rid for rid, _ in rows}) == 2
    assert conn.execute("SELECT units_sold FROM fact_sales_order_current WHERE sales_order_id = 7").fetchall() == [
        (20,)
    ]
    assert _count(conn, "fact_sales_order_current") == 2

    # The same version in a later batch (and twice within one batch) is inserted once only.
    dup = pl.concat([v2, v2, sales_frame([{"sales_order_id": 9}])])
    result = load_table_batches(conn, "fact_sales_order", [("sales/b3.parquet", dup)])
    conn.commit()
    assert result.rows_loaded == 1
    assert _count(conn, "fact_sales_order") == 4
    assert conn.execute("SELECT count(*) FROM fact_sales_order WHERE sales_order_id = 7").fetchone() == (2,)
    ledger = conn.execute(
        "SELECT batch_key, table_name, row_count FROM reveries_load_ledger "
        "WHERE table_name = 'fact_sales_order' ORDER BY batch_key"
    ).fetchall()
    assert ledger == [
        ("sales/b1.parquet", "fact_sales_order", 2),
        ("sales/b2.parquet", "fact_sales_order", 1),
        ("sales/b3.parquet", "fact_sales_order", 3),
    ]


def test_exact_round_trip_of_decimals_times_and_null_vs_empty(warehouse, fk_path):
    conn = warehouse
    frame = sales_frame(
        [
            {
                "sales_order_id": 1,
                "unit_price": Decimal("12345678.91"),
                "created_time": dt.time(14, 3, 7, 123000),
                "last_updated_time": dt.time(23, 59, 59, 999000),
            },
            {"sales_order_id": 2, "unit_price": Decimal("0.01"), "created_time": dt.time(0, 0, 0, 1000)},
        ]
    )
    load_batch(conn, "fact_sales_order", "sales/exact.parquet", frame)
    tricky = ["", None, "\\N", 'a,"b"\nc\r', " padded "]
    locations = dim_location_frame(tuple(tricky))
    load_batch(conn, "dim_location", "location/tricky.parquet", locations)
    # A NOT NULL varchar may hold ''.
    load_batch(
        conn,
        "dim_design",
        "design/empty.parquet",
        dim_design_frame().with_columns(pl.lit("").alias("file_location")),
    )
    conn.commit()

    assert conn.execute(
        "SELECT unit_price, created_time, last_updated_time FROM fact_sales_order ORDER BY sales_order_id"
    ).fetchall() == [
        (Decimal("12345678.91"), dt.time(14, 3, 7, 123000), dt.time(23, 59, 59, 999000)),
        (Decimal("0.01"), dt.time(0, 0, 0, 1000), dt.time(9, 0)),
    ]
    got = [r[0] for r in conn.execute("SELECT address_line_2 FROM dim_location ORDER BY location_id")]
    assert got == tricky
    assert conn.execute("SELECT count(*) FROM dim_location WHERE district IS NULL").fetchone() == (len(tricky),)
    assert conn.execute("SELECT DISTINCT file_location FROM dim_design").fetchall() == [("",)]


def test_a_replayed_batch_key_is_a_no_op(warehouse):
    conn = warehouse
    frame = sales_frame([{"sales_order_id": 1}, {"sales_order_id": 2}])
    assert load_batch(conn, "fact_sales_order", "sales/b1.parquet", frame) is True
    conn.commit()
    before = (_count(conn, "fact_sales_order"), _count(conn, LEDGER))
    # Same key, even with different content: nothing happens.
    changed = sales_frame([{"sales_order_id": 3}])
    assert load_batch(conn, "fact_sales_order", "sales/b1.parquet", changed) is False
    result = load_table_batches(
        conn,
        "fact_sales_order",
        [("sales/b1.parquet", changed), ("sales/b2.parquet", changed), ("sales/b2.parquet", changed)],
    )
    conn.commit()
    assert result.batches_skipped == ["sales/b1.parquet", "sales/b2.parquet"]
    assert result.batches_applied == ["sales/b2.parquet"]
    assert (_count(conn, "fact_sales_order"), _count(conn, LEDGER)) == (before[0] + 1, before[1] + 1)
    assert pending_batch_keys(
        conn, "fact_sales_order", ["sales/b3.parquet", "sales/b1.parquet", "sales/b0.parquet"]
    ) == ["sales/b3.parquet", "sales/b0.parquet"]
    # Dimensions too.
    assert load_batch(conn, "dim_staff", "dim_staff/seed.parquet", dim_staff_frame(((1, "X", "Y"),))) is False
    assert conn.execute("SELECT first_name FROM dim_staff WHERE staff_id = 1").fetchone() == ("Ann",)


def _snapshot(conn):
    return {t: _count(conn, t) for t in (*WAREHOUSE_TABLES, LEDGER)}


def test_a_crash_after_copy_changes_nothing_and_a_rerun_completes(warehouse, fk_path, monkeypatch):
    conn = warehouse
    before = _snapshot(conn)
    real_copy = loader._copy_into

    def copy_then_crash(*args, **kwargs):
        real_copy(*args, **kwargs)  # rows are in (staging or the empty target) table...
        raise RuntimeError("simulated crash before commit")

    monkeypatch.setattr(loader, "_copy_into", copy_then_crash)
    batches = [("sales/b1.parquet", sales_frame([{"sales_order_id": 1}]))]
    with pytest.raises(RuntimeError, match="simulated crash"):
        with conn.transaction():
            load_table_batches(conn, "fact_sales_order", batches[:1])
    with pytest.raises(RuntimeError, match="simulated crash"):
        load_table_batches(conn, "dim_staff", [("dim_staff/b9.parquet", dim_staff_frame(((9, "Z", "Z"),)))])
    conn.rollback()
    assert _snapshot(conn) == before
    assert pending_batch_keys(conn, "fact_sales_order", ["sales/b1.parquet"]) == ["sales/b1.parquet"]

    monkeypatch.setattr(loader, "_copy_into", real_copy)
    result = load_table_batches(conn, "fact_sales_order", batches[:1])
    conn.commit()
    assert result.batches_applied == ["sales/b1.parquet"] and result.rows_loaded == 1
    assert _count(conn, "fact_sales_order") == 1
    assert pending_batch_keys(conn, "fact_sales_order", ["sales/b1.parquet"]) == []


def test_a_fact_row_with_a_missing_dimension_row_fails_and_leaves_nothing(warehouse, fk_path):
    conn = warehouse
    before = _snapshot(conn)
    good = sales_frame([{"sales_order_id": 1}])
    bad = sales_frame([{"sales_order_id": 2, "design_id": 99}])
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="design_id"):
        load_table_batches(conn, "fact_sales_order", [("sales/good.parquet", good), ("sales/bad.parquet", bad)])
    conn.rollback()
    assert _snapshot(conn) == before
    assert _fks(conn, "fact_sales_order") == EXPECTED_FKS["fact_sales_order"]
    missing_date = sales_frame([{"sales_order_id": 3, "agreed_delivery_date": dt.date(2030, 1, 1)}])
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="dim_date"):
        load_batch(conn, "fact_sales_order", "sales/bad-date.parquet", missing_date)
    conn.rollback()
    assert _snapshot(conn) == before
    # The good batch alone loads; the foreign keys are all still there and validated.
    assert load_batch(conn, "fact_sales_order", "sales/good.parquet", good)
    conn.commit()
    assert _count(conn, "fact_sales_order") == 1
    _assert_schema(conn)
    assert conn.execute("SELECT bool_and(convalidated) FROM pg_constraint WHERE contype = 'f'").fetchone() == (True,)


def test_a_frame_that_does_not_match_the_table_is_rejected(warehouse):
    conn = warehouse
    with pytest.raises(ValueError, match="missing columns"):
        load_batch(conn, "dim_staff", "staff/bad.parquet", dim_staff_frame().drop("email_address"))
    with pytest.raises(ValueError, match="unknown warehouse table"):
        load_batch(conn, "fact_sales_order_current", "x", dim_staff_frame())
    conn.rollback()
    assert _count(conn, LEDGER) == len(DIMENSIONS)


def test_version_key_and_record_id_name_real_columns(warehouse):
    for fact, (natural, date_col, time_col) in FACT_VERSION_KEY.items():
        names = [c for c, _, _ in EXPECTED_COLUMNS[fact]]
        assert names[0] == RECORD_ID[fact] and {natural, date_col, time_col} <= set(names)


def _big_sales_frame(n: int) -> pl.DataFrame:
    ids = pl.int_range(0, n, dtype=pl.Int32, eager=True)
    return pl.DataFrame(
        {
            "sales_order_id": ids,
            "created_date": pl.repeat(DAY0, n, eager=True),
            "created_time": pl.repeat(dt.time(14, 3, 7, 123000), n, eager=True),
            "last_updated_date": pl.repeat(DAY0 + dt.timedelta(days=1), n, eager=True),
            "last_updated_time": pl.repeat(dt.time(15, 0, 0, 456000), n, eager=True),
            "sales_staff_id": (ids % 2 + 1).cast(pl.Int32),
            "counterparty_id": (ids % 2 + 1).cast(pl.Int32),
            "units_sold": ids % 1000,
            "unit_price": pl.Series(
                [Decimal("12345678.91"), Decimal("3.05")] * (n // 2) + [Decimal("1.00")] * (n % 2),
                dtype=pl.Decimal(10, 2),
            ),
            "currency_id": (ids % 2 + 1).cast(pl.Int32),
            "design_id": (ids % 2 + 1).cast(pl.Int32),
            "agreed_payment_date": pl.repeat(DAY0 + dt.timedelta(days=5), n, eager=True),
            "agreed_delivery_date": pl.repeat(DAY0 + dt.timedelta(days=6), n, eager=True),
            "agreed_delivery_location_id": (ids % 2 + 1).cast(pl.Int32),
        }
    )


def test_bulk_load_timing(warehouse):
    """Prints the time to load REVERIES_BENCH_ROWS (default 300k) sales rows in 10 batches.

    A figure, not an assertion: run with -s to see it.
    """
    conn = warehouse
    n = int(os.environ.get("REVERIES_BENCH_ROWS", "300000"))
    frame = _big_sales_frame(n)
    step = -(-n // 10)
    batches = [(f"sales/bench-{i}.parquet", frame.slice(i * step, step)) for i in range(10)]
    start = time.perf_counter()
    result = load_table_batches(conn, "fact_sales_order", batches)
    conn.commit()
    elapsed = time.perf_counter() - start
    print(
        f"\nloaded {result.rows_loaded:,} fact_sales_order rows in {elapsed:.2f}s "
        f"({result.rows_loaded / elapsed:,.0f} rows/s)"
    )
    assert result.rows_loaded == n == _count(conn, "fact_sales_order")
    assert conn.execute("SELECT sum(unit_price) FROM fact_sales_order").fetchone()[0] == sum(
        frame["unit_price"].to_list()
    )


def test_initial_load_into_empty_tables_keeps_the_merge_rules(warehouse, fk_path):
    """An empty table is loaded by COPY straight into it: versions still go in once, last dim row wins."""
    conn = warehouse
    assert _count(conn, "fact_sales_order") == 0
    first = sales_frame([{"sales_order_id": 1}, {"sales_order_id": 2, "units_sold": 7}])
    replayed = sales_frame([{"sales_order_id": 2, "units_sold": 7}, {"sales_order_id": 3}])
    result = load_table_batches(conn, "fact_sales_order", [("s/a.parquet", first), ("s/b.parquet", replayed)])
    conn.commit()
    assert result.batches_applied == ["s/a.parquet", "s/b.parquet"] and result.rows_loaded == 3
    rows = conn.execute("SELECT sales_order_id, sales_record_id FROM fact_sales_order ORDER BY 2").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3]  # frame order, one row per version

    conn.execute("TRUNCATE dim_staff CASCADE")
    conn.commit()
    twice = dim_staff_frame(((5, "Old", "Name"), (5, "New", "Name")))
    load_table_batches(conn, "dim_staff", [("dim_staff/c.parquet", twice)])
    conn.commit()
    assert conn.execute("SELECT first_name FROM dim_staff WHERE staff_id = 5").fetchall() == [("New",)]
