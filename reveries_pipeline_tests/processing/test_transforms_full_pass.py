"""A full transform pass from empty state: every star table modelled with the right values, dim_date
covering every referenced day, empty input giving empty frames, and a speed sanity print (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import polars as pl
import pytest

from reveries_pipeline.catalog import FOREIGN_KEYS
from reveries_pipeline.processing.raw_schemas import RAW_SCHEMAS
from reveries_pipeline.processing.transforms import STATE_TABLES, transform
from reveries_pipeline_tests.processing.ddl_contract import assert_schema
from reveries_pipeline_tests.processing.raw_rows import full_changes, raw, sales_order


def assert_facts_modelled(t: dict[str, pl.DataFrame]) -> None:
    """The facts of full_changes(): typed dates and times (milliseconds kept), exact decimals, renamed
    columns, and no bank account numbers."""
    so = t["fact_sales_order"]
    assert so.height == 2
    r = so.row(0, named=True)
    assert r["created_date"] == dt.date(2024, 3, 4)
    assert r["created_time"] == dt.time(9, 15, 30, 123000)  # milliseconds kept
    assert r["last_updated_time"] == dt.time(9, 15, 30, 123000)
    assert r["unit_price"] == Decimal("2.37")
    assert r["sales_staff_id"] == 1
    assert r["agreed_delivery_date"] == dt.date(2024, 3, 10)
    assert r["agreed_payment_date"] == dt.date(2024, 3, 12)

    po = t["fact_purchase_order"].row(0, named=True)
    assert po["item_unit_price"] == Decimal("1234.56")
    assert po["item_code"] == "ABC123"

    pay = t["fact_payment"].row(0, named=True)
    assert pay["payment_amount"] == Decimal("99999999.99")
    assert pay["last_updated"] == dt.time(9, 15, 30, 123000)
    assert pay["payment_date"] == dt.date(2024, 3, 8)
    assert pay["paid"] is False
    assert "company_ac_number" not in t["fact_payment"].columns


def assert_dimensions_modelled(t: dict[str, pl.DataFrame]) -> None:
    """The dimensions of full_changes(): currency names, staff joined to departments (an unknown
    location named so), counterparties joined to their legal address, and the plain lookups."""
    cur = dict(t["dim_currency"].select("currency_code", "currency_name").iter_rows())
    assert cur == {"GBP": "Pound Sterling", "USD": "US Dollar", "EUR": "Euro"}

    st = {r["staff_id"]: r for r in t["dim_staff"].iter_rows(named=True)}
    assert st[1]["department_name"] == "Dept 1" and st[1]["location"] == "Leeds"
    assert st[2]["location"] == "Unknown"

    cp = t["dim_counterparty"].row(0, named=True)
    assert cp["counterparty_legal_address_line_1"] == "1 High Street"
    assert cp["counterparty_legal_phone_number"] == "0113 000"
    assert cp["counterparty_legal_address_line_2"] is None

    assert t["dim_location"].get_column("location_id").to_list() == [1, 2]
    assert t["dim_design"].height == 1
    assert t["dim_payment_type"].get_column("payment_type_name").to_list() == [
        "SALES_RECEIPT",
        "PURCHASE_PAYMENT",
    ]
    tr = t["dim_transaction"].row(1, named=True)
    assert tr == {
        "transaction_id": 2,
        "transaction_type": "PURCHASE",
        "sales_order_id": None,
        "purchase_order_id": 1,
    }


def test_full_pass_schemas_and_values():
    result = transform(full_changes(), {})
    assert_schema(result)
    assert result.rejects.height == 0, result.rejects
    assert result.unknown_currencies == []
    assert_facts_modelled(result.tables)
    assert_dimensions_modelled(result.tables)


def test_dim_date_covers_all_referenced_dates():
    result = transform(full_changes(), {})
    dd = result.tables["dim_date"]
    # referenced: 2024-03-04 (created/updated) .. 2024-03-12 (agreed payment date)
    assert dd.get_column("date_id").to_list() == [dt.date(2024, 3, d) for d in range(4, 13)]
    monday = dd.row(0, named=True)
    assert monday == {
        "date_id": dt.date(2024, 3, 4),
        "year": 2024,
        "month": 3,
        "day": 4,
        "day_of_week": 1,
        "day_name": "Monday",
        "month_name": "March",
        "quarter": 1,
    }
    sunday = dd.filter(pl.col("date_id") == dt.date(2024, 3, 10)).row(0, named=True)
    assert sunday["day_of_week"] == 7 and sunday["day_name"] == "Sunday"
    # every fact date is covered
    dates = set(dd.get_column("date_id").to_list())
    for fk_table, col, dim, _ in FOREIGN_KEYS:
        if dim == "dim_date":
            assert set(result.tables[fk_table].get_column(col).to_list()) <= dates


def test_dim_date_quarters():
    changes = {
        "sales_order": raw(
            "sales_order",
            [
                sales_order(
                    1,
                    lu=dt.datetime(2024, 3, 1),
                    agreed_delivery_date="2024-12-31",
                    agreed_payment_date="2024-07-01",
                )
            ],
        )
    }
    dd = transform(changes, {}).tables["dim_date"]
    assert dd.height == (dt.date(2024, 12, 31) - dt.date(2024, 3, 1)).days + 1
    q = dict(dd.select("date_id", "quarter").iter_rows())
    assert q[dt.date(2024, 3, 31)] == 1
    assert q[dt.date(2024, 4, 1)] == 2
    assert q[dt.date(2024, 9, 30)] == 3
    assert q[dt.date(2024, 12, 31)] == 4


def test_nothing_changed_gives_empty_frames_with_schema():
    result = transform({}, {})
    assert_schema(result)
    assert all(frame.height == 0 for frame in result.tables.values())
    assert result.rejects.height == 0
    assert set(result.new_state) == set(STATE_TABLES)


@pytest.mark.parametrize("n", [1_500_000])
def test_timing_sanity_many_sales_orders(n, capsys):
    base = dt.datetime(2023, 1, 1)
    ids = pl.int_range(0, n, eager=True, dtype=pl.Int32)
    frame = pl.DataFrame({"i": ids}).select(
        (pl.col("i") + 1).alias("sales_order_id"),
        (pl.lit(base) + pl.duration(seconds=pl.col("i"))).cast(pl.Datetime("ms")).alias("created_at"),
        (pl.lit(base) + pl.duration(seconds=pl.col("i") + 60, milliseconds=123))
        .cast(pl.Datetime("ms"))
        .alias("last_updated"),
        (pl.col("i") % 50 + 1).cast(pl.Int32).alias("design_id"),
        (pl.col("i") % 20 + 1).cast(pl.Int32).alias("staff_id"),
        (pl.col("i") % 20 + 1).cast(pl.Int32).alias("counterparty_id"),
        (pl.col("i") % 1000 + 1).cast(pl.Int32).alias("units_sold"),
        pl.lit(Decimal("3.14")).cast(pl.Decimal(10, 2)).alias("unit_price"),
        (pl.col("i") % 3 + 1).cast(pl.Int32).alias("currency_id"),
        (pl.lit(dt.date(2023, 1, 1)) + pl.duration(days=pl.col("i") % 900))
        .dt.strftime("%Y-%m-%d")
        .alias("agreed_delivery_date"),
        (pl.lit(dt.date(2023, 1, 1)) + pl.duration(days=pl.col("i") % 1000))
        .dt.strftime("%Y-%m-%d")
        .alias("agreed_payment_date"),
        (pl.col("i") % 30 + 1).cast(pl.Int32).alias("agreed_delivery_location_id"),
        pl.lit("raw/sales_order/big.parquet").alias("_source_key"),
    )
    # the same columns and dtypes; RAW_SCHEMAS lists them in the catalog's order, not the source's
    assert dict(frame.drop("_source_key").schema) == dict(RAW_SCHEMAS["sales_order"])
    started = time.perf_counter()
    result = transform({"sales_order": frame}, {})
    elapsed = time.perf_counter() - started
    assert result.tables["fact_sales_order"].height == n
    with capsys.disabled():
        print(f"\ntransform of {n:,} sales orders: {elapsed:.2f}s")
