"""The warehouse schema and loader against a real (embedded) PostgreSQL 18."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import psycopg
import pytest

from reveries_pipeline.warehouse import copy_in, foreign_keys
from reveries_pipeline.warehouse.count_cache import CHANGES_TABLE, COUNTS_TABLE
from reveries_pipeline.warehouse.ledger import applied_keys
from reveries_pipeline.warehouse.loader import LoadResult, load_batch, load_table_batches
from reveries_pipeline.warehouse.schema import (
    FACT_VERSION_KEY,
    RECORD_ID,
    WAREHOUSE_TABLES,
    apply_warehouse_ddl,
    declared_foreign_keys,
    warehouse_ddl,
)
from reveries_pipeline_tests.warehouse.expected_schema import (
    CURRENT_TABLES,
    EXPECTED_COLUMNS,
    EXPECTED_FKS,
    FX_TABLE,
    LEDGER,
    REPORTING_TABLES,
    VIEWS,
    columns_of,
    foreign_keys_of,
)
from reveries_pipeline_tests.warehouse.frames import (
    DAY0,
    DIMENSIONS,
    big_sales_frame,
    dim_date_frame,
    dim_design_frame,
    dim_location_frame,
    dim_staff_frame,
    sales_frame,
    seed_dimensions,
)

# ---------------------------------------------------------------------------------------------
# The schema: as documented (expected_schema.py), whichever way it was built.


def _assert_schema(conn):
    tables = {
        name
        for (name,) in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
    }
    ours = {LEDGER, "reveries_schema_version", FX_TABLE, *CURRENT_TABLES, *REPORTING_TABLES}
    ours |= {CHANGES_TABLE, COUNTS_TABLE}  # count_cache.py's
    assert tables == set(EXPECTED_COLUMNS) | ours
    assert set(WAREHOUSE_TABLES) == set(EXPECTED_COLUMNS)
    for table, expected in EXPECTED_COLUMNS.items():
        assert columns_of(conn, table) == expected, table
    for current in CURRENT_TABLES:  # the fact's own columns, in its order
        assert columns_of(conn, current) == EXPECTED_COLUMNS[current.removesuffix("_current")], current
    assert columns_of(conn, LEDGER) == [
        ("batch_key", "text", False),
        ("table_name", "text", False),
        ("row_count", "bigint", False),
        ("loaded_at", "timestamp with time zone", False),
    ]
    for fact, fks in EXPECTED_FKS.items():
        assert foreign_keys_of(conn, fact) == fks, fact
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
        seed_dimensions(conn)
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


def test_the_foreign_keys_ddl_declares_are_the_documented_ones():
    declared: dict[str, set[tuple[str, str, str]]] = {}
    for fk in declared_foreign_keys():
        declared.setdefault(fk.table, set()).add((fk.column, fk.references, fk.referenced_column))
    assert declared == EXPECTED_FKS  # and _assert_schema holds the live constraints to EXPECTED_FKS
    assert len(declared_foreign_keys()) == sum(map(len, EXPECTED_FKS.values()))  # none twice


def _count(conn, table) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - test-owned names


@pytest.fixture(params=["row-triggers", "bulk-fk"])
def fk_path(request, monkeypatch) -> str:
    """Runs a fact test through both foreign-key paths: per-row triggers, and drop/insert/re-add."""
    if request.param == "bulk-fk":
        monkeypatch.setattr(foreign_keys, "BULK_FK_MIN_ROWS", 1)
    return request.param


@pytest.fixture(params=["one COPY chunk", "a chunk per row"])
def copy_chunks(request, monkeypatch) -> str:
    """Runs a test with every row in one COPY chunk, and with each row in its own (positions must run on)."""
    if request.param == "a chunk per row":
        monkeypatch.setattr(copy_in, "COPY_ROWS_PER_CHUNK", 1)
    return request.param


@pytest.fixture
def warehouse(warehouse_dsn):
    """A connection to a warehouse with the schema applied and every dimension seeded (committed)."""
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        seed_dimensions(conn)
        conn.commit()
        yield conn


# ---------------------------------------------------------------------------------------------
# Loading.


def test_dimension_upsert_latest_values_win(warehouse, copy_chunks):
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


def test_fact_versions_are_appended_and_current_view_shows_newest(warehouse, fk_path, copy_chunks):
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


def test_exact_round_trip_of_decimals_times_and_null_vs_empty(warehouse, fk_path, copy_chunks):
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
    assert applied_keys(conn, ["sales/b3.parquet", "sales/b1.parquet", "sales/b0.parquet"]) == {"sales/b1.parquet"}
    # Dimensions too.
    assert load_batch(conn, "dim_staff", "dim_staff/seed.parquet", dim_staff_frame(((1, "X", "Y"),))) is False
    assert conn.execute("SELECT first_name FROM dim_staff WHERE staff_id = 1").fetchone() == ("Ann",)


def _snapshot(conn):
    return {t: _count(conn, t) for t in (*WAREHOUSE_TABLES, LEDGER)}


def test_a_crash_after_copy_changes_nothing_and_a_rerun_completes(warehouse, fk_path, monkeypatch):
    conn = warehouse
    before = _snapshot(conn)
    real_copy = copy_in.copy_rows

    def copy_then_crash(*args, **kwargs):
        real_copy(*args, **kwargs)  # rows are in (staging or the empty target) table...
        raise RuntimeError("simulated crash before commit")

    monkeypatch.setattr(copy_in, "copy_rows", copy_then_crash)
    batches = [("sales/b1.parquet", sales_frame([{"sales_order_id": 1}]))]
    with pytest.raises(RuntimeError, match="simulated crash"):
        with conn.transaction():
            load_table_batches(conn, "fact_sales_order", batches[:1])
    with pytest.raises(RuntimeError, match="simulated crash"):
        load_table_batches(conn, "dim_staff", [("dim_staff/b9.parquet", dim_staff_frame(((9, "Z", "Z"),)))])
    conn.rollback()
    assert _snapshot(conn) == before
    assert applied_keys(conn, ["sales/b1.parquet"]) == set()

    monkeypatch.setattr(copy_in, "copy_rows", real_copy)
    result = load_table_batches(conn, "fact_sales_order", batches[:1])
    conn.commit()
    assert result.batches_applied == ["sales/b1.parquet"] and result.rows_loaded == 1
    assert _count(conn, "fact_sales_order") == 1
    assert applied_keys(conn, ["sales/b1.parquet"]) == {"sales/b1.parquet"}


def test_a_fact_row_with_a_missing_dimension_row_fails_and_leaves_nothing(warehouse, fk_path):
    conn = warehouse
    before = _snapshot(conn)
    good = sales_frame([{"sales_order_id": 1}])
    bad = sales_frame([{"sales_order_id": 2, "design_id": 99}])
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="design_id"):
        load_table_batches(conn, "fact_sales_order", [("sales/good.parquet", good), ("sales/bad.parquet", bad)])
    conn.rollback()
    assert _snapshot(conn) == before
    assert foreign_keys_of(conn, "fact_sales_order") == EXPECTED_FKS["fact_sales_order"]
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


def test_a_large_load_in_many_batches_is_exact(warehouse):
    """100,000 rows in ten batches: more than one COPY chunk, the bulk foreign-key path, nothing lost."""
    conn = warehouse
    n = 100_000
    frame = big_sales_frame(n)
    step = -(-n // 10)
    batches = [(f"sales/large-{i}.parquet", frame.slice(i * step, step)) for i in range(10)]
    result = load_table_batches(conn, "fact_sales_order", batches)
    conn.commit()
    assert result.rows_loaded == n == _count(conn, "fact_sales_order")
    assert result.batches_applied == [key for key, _ in batches]
    assert conn.execute("SELECT sum(unit_price) FROM fact_sales_order").fetchone()[0] == sum(
        frame["unit_price"].to_list()
    )
    assert foreign_keys_of(conn, "fact_sales_order") == EXPECTED_FKS["fact_sales_order"]  # re-added


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
