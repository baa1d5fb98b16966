"""Stage 2 transforms: raw totesys frames -> star-schema frames (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from reveries_pipeline.catalog import DIMENSION_TABLES, FACT_TABLES, FOREIGN_KEYS
from reveries_pipeline.processing.currencies import currency_name
from reveries_pipeline.processing.raw_schemas import RAW_SCHEMAS
from reveries_pipeline.processing.schemas import NULLABLE_COLUMNS, PRIMARY_KEYS, TARGET_SCHEMAS
from reveries_pipeline.processing.transforms import STATE_TABLES, ProcessingResult, transform

WAREHOUSE_DDL = Path(__file__).resolve().parents[2] / "reveries_pipeline" / "warehouse" / "ddl.sql"

T0 = dt.datetime(2024, 3, 4, 9, 15, 30, 123000)  # a Monday, with milliseconds
T1 = dt.datetime(2024, 3, 5, 17, 45, 1, 987000)
T2 = dt.datetime(2024, 3, 9, 8, 0, 0, 1000)


# ---------------------------------------------------------------------------------------------------
# builders


def raw(table: str, rows: list[dict], source_key: str = "raw/batch-1.parquet") -> pl.DataFrame:
    """A raw frame of ``table``: exact source columns and dtypes, plus _source_key."""
    schema = dict(RAW_SCHEMAS[table])
    full = [{c: r.get(c) for c in schema} for r in rows]
    frame = pl.DataFrame(full, schema=schema, orient="row") if full else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.lit(source_key, dtype=pl.String).alias("_source_key"))


def state_of(table: str, rows: list[dict]) -> pl.DataFrame:
    return raw(table, rows).drop("_source_key")


def address(i: int, city: str = "Leeds", lu: dt.datetime = T0, **kw) -> dict:
    row = dict(
        address_id=i,
        address_line_1=f"{i} High Street",
        address_line_2=None,
        district="West",
        city=city,
        postal_code="LS1 1AA",
        country="UK",
        phone="0113 000",
        created_at=T0,
        last_updated=lu,
    )
    return row | kw


def counterparty(i: int, address_id: int, lu: dt.datetime = T0, **kw) -> dict:
    row = dict(
        counterparty_id=i,
        counterparty_legal_name=f"CP {i}",
        legal_address_id=address_id,
        commercial_contact="Ann",
        delivery_contact="Bob",
        created_at=T0,
        last_updated=lu,
    )
    return row | kw


def department(i: int, location: str | None = "Leeds", lu: dt.datetime = T0, **kw) -> dict:
    row = dict(
        department_id=i,
        department_name=f"Dept {i}",
        location=location,
        manager="Boss",
        created_at=T0,
        last_updated=lu,
    )
    return row | kw


def staff(i: int, department_id: int, lu: dt.datetime = T0, **kw) -> dict:
    row = dict(
        staff_id=i,
        first_name=f"First{i}",
        last_name=f"Last{i}",
        department_id=department_id,
        email_address=f"s{i}@terrifictotes.com",
        created_at=T0,
        last_updated=lu,
    )
    return row | kw


def currency(i: int, code: str, lu: dt.datetime = T0) -> dict:
    return dict(currency_id=i, currency_code=code, created_at=T0, last_updated=lu)


def design(i: int, lu: dt.datetime = T0, **kw) -> dict:
    row = dict(
        design_id=i,
        created_at=T0,
        design_name=f"Design {i}",
        file_location="/designs",
        file_name=f"d{i}.json",
        last_updated=lu,
    )
    return row | kw


def payment_type(i: int, name: str = "SALES_RECEIPT") -> dict:
    return dict(payment_type_id=i, payment_type_name=name, created_at=T0, last_updated=T0)


def transaction(i: int, kind: str = "SALE", so: int | None = 1, po: int | None = None) -> dict:
    return dict(
        transaction_id=i,
        transaction_type=kind,
        sales_order_id=so,
        purchase_order_id=po,
        created_at=T0,
        last_updated=T0,
    )


def sales_order(i: int, lu: dt.datetime = T0, **kw) -> dict:
    row = dict(
        sales_order_id=i,
        created_at=T0,
        last_updated=lu,
        design_id=1,
        staff_id=1,
        counterparty_id=1,
        units_sold=100,
        unit_price=Decimal("2.37"),
        currency_id=1,
        agreed_delivery_date="2024-03-10",
        agreed_payment_date="2024-03-12",
        agreed_delivery_location_id=1,
    )
    return row | kw


def purchase_order(i: int, lu: dt.datetime = T0, **kw) -> dict:
    row = dict(
        purchase_order_id=i,
        created_at=T0,
        last_updated=lu,
        staff_id=1,
        counterparty_id=1,
        item_code="ABC123",
        item_quantity=7,
        item_unit_price=Decimal("1234.56"),
        currency_id=1,
        agreed_delivery_date="2024-03-06",
        agreed_payment_date="2024-03-07",
        agreed_delivery_location_id=1,
    )
    return row | kw


def payment(i: int, lu: dt.datetime = T0, **kw) -> dict:
    row = dict(
        payment_id=i,
        created_at=T0,
        last_updated=lu,
        transaction_id=1,
        counterparty_id=1,
        payment_amount=Decimal("99999999.99"),
        currency_id=1,
        payment_type_id=1,
        paid=False,
        payment_date="2024-03-08",
        company_ac_number=12345678,
        counterparty_ac_number=87654321,
    )
    return row | kw


def full_changes() -> dict[str, pl.DataFrame]:
    return {
        "address": raw("address", [address(1), address(2, city="York")]),
        "counterparty": raw("counterparty", [counterparty(1, 1), counterparty(2, 2)]),
        "currency": raw("currency", [currency(1, "GBP"), currency(2, "USD"), currency(3, "EUR")]),
        "department": raw("department", [department(1), department(2, location=None)]),
        "design": raw("design", [design(1)]),
        "payment_type": raw("payment_type", [payment_type(1), payment_type(2, "PURCHASE_PAYMENT")]),
        "staff": raw("staff", [staff(1, 1), staff(2, 2)]),
        "sales_order": raw("sales_order", [sales_order(1), sales_order(2)]),
        "purchase_order": raw("purchase_order", [purchase_order(1)]),
        "transaction": raw("transaction", [transaction(1), transaction(2, "PURCHASE", None, 1)]),
        "payment": raw("payment", [payment(1)]),
    }


def parse_warehouse_ddl() -> dict[str, list[tuple[str, str, bool]]]:
    """CREATE TABLE blocks of the warehouse DDL -> [(column, sql type, nullable)] per table."""
    text = WAREHOUSE_DDL.read_text()
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", text, re.S):
        if not (name.startswith("dim_") or name.startswith("fact_")) or name.endswith("_current"):
            continue  # the load ledger and the loader's current tables are no processed tables
        cols = []
        for line in body.strip().splitlines():
            line = line.strip().rstrip(",")
            m = re.match(r"(\w+)\s+(SERIAL|INT|DATE|TIME|VARCHAR|BOOLEAN|NUMERIC(?:\(\d+, ?\d+\))?)(.*)", line)
            assert m, line
            col, sqltype, rest = m.groups()
            nullable = "NOT NULL" not in rest and "PRIMARY KEY" not in rest
            cols.append((col, sqltype, nullable))
        tables[name] = cols
    return tables


SQL_TO_POLARS = {
    "INT": pl.Int32,
    "DATE": pl.Date,
    "TIME": pl.Time,
    "VARCHAR": pl.String,
    "BOOLEAN": pl.Boolean,
    "NUMERIC": pl.Decimal(10, 2),
    "NUMERIC(10, 2)": pl.Decimal(10, 2),
}


# ---------------------------------------------------------------------------------------------------
# schemas


def test_target_schemas_match_warehouse_ddl():
    ddl = parse_warehouse_ddl()
    assert set(TARGET_SCHEMAS) == set(ddl)
    assert set(TARGET_SCHEMAS) == set(FACT_TABLES) | set(DIMENSION_TABLES)
    for table, schema in TARGET_SCHEMAS.items():
        cols = [c for c in ddl[table] if c[1] != "SERIAL"]
        assert list(schema.names()) == [c[0] for c in cols], table
        for col, sqltype, nullable in cols:
            assert schema[col] == SQL_TO_POLARS[sqltype], (table, col)
            assert (col in NULLABLE_COLUMNS[table]) == nullable, (table, col)
        for col in PRIMARY_KEYS[table]:
            assert col in schema.names()


def test_foreign_keys_mirror_ddl():
    text = WAREHOUSE_DDL.read_text()
    refs = []
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", text, re.S):
        for col, dim, dim_col in re.findall(r"(\w+)\s+\w+ NOT NULL REFERENCES (\w+) \((\w+)\)", body):
            refs.append((name, col, dim, dim_col))
    assert sorted(FOREIGN_KEYS) == sorted(refs)


def test_currency_names():
    assert currency_name("GBP") == "Pound Sterling"
    assert currency_name("USD") == "US Dollar"
    assert currency_name("eur") == "Euro"
    assert currency_name("JPY") == "Yen"
    assert currency_name("XYZ") is None


# ---------------------------------------------------------------------------------------------------
# full pass


def assert_schema(result: ProcessingResult):
    ddl = parse_warehouse_ddl()
    assert list(result.tables) == list(TARGET_SCHEMAS)
    for table, frame in result.tables.items():
        assert frame.schema == TARGET_SCHEMAS[table], table
        cols = [c for c in ddl[table] if c[1] != "SERIAL"]
        assert frame.columns == [c[0] for c in cols]
        for col, _, nullable in cols:
            if not nullable:
                assert frame.get_column(col).null_count() == 0, (table, col)
        assert not any(dtype.is_float() for dtype in frame.dtypes), table


def test_full_pass_schemas_and_values():
    result = transform(full_changes(), {})
    assert_schema(result)
    assert result.rejects.height == 0, result.rejects
    assert result.unknown_currencies == []
    t = result.tables

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


# ---------------------------------------------------------------------------------------------------
# history and versions


def test_fact_history_and_exact_duplicates():
    rows = [sales_order(1, lu=T0), sales_order(1, lu=T1, units_sold=5), sales_order(1, lu=T1, units_sold=5)]
    changes = {
        "sales_order": pl.concat(
            [raw("sales_order", rows[:2]), raw("sales_order", rows[2:], source_key="raw/replay.parquet")]
        )
    }
    so = transform(changes, {}).tables["fact_sales_order"]
    assert so.height == 2
    assert so.get_column("units_sold").to_list() == [100, 5]
    assert so.get_column("last_updated_time").to_list() == [T0.time(), T1.time()]


def test_dimension_latest_version_wins():
    changes = {
        "design": raw("design", [design(1, lu=T1, design_name="new"), design(1, lu=T0, design_name="old")]),
        "address": raw("address", [address(1, city="Later", lu=T1), address(1, city="Earlier", lu=T0)]),
    }
    result = transform(changes, {})
    assert result.tables["dim_design"].get_column("design_name").to_list() == ["new"]
    assert result.tables["dim_location"].get_column("city").to_list() == ["Later"]
    assert result.new_state["address"].get_column("city").to_list() == ["Later"]


# ---------------------------------------------------------------------------------------------------
# changes through joined tables, incremental passes


def base_state() -> dict[str, pl.DataFrame]:
    return {
        "address": state_of("address", [address(1), address(2)]),
        "counterparty": state_of("counterparty", [counterparty(1, 1), counterparty(2, 1), counterparty(3, 2)]),
        "department": state_of("department", [department(1), department(2)]),
        "staff": state_of("staff", [staff(1, 1), staff(2, 1), staff(3, 2)]),
    }


def test_address_edit_only_emits_affected_dims():
    changes = {"address": raw("address", [address(1, city="Manchester", lu=T1)])}
    result = transform(changes, base_state())
    assert_schema(result)
    t = result.tables
    assert t["dim_location"].get_column("location_id").to_list() == [1]
    assert t["dim_location"].get_column("city").to_list() == ["Manchester"]
    cp = t["dim_counterparty"]
    assert cp.get_column("counterparty_id").to_list() == [1, 2]
    assert cp.get_column("counterparty_legal_city").to_list() == ["Manchester", "Manchester"]
    for name in TARGET_SCHEMAS:
        if name not in ("dim_location", "dim_counterparty"):
            assert t[name].height == 0, name
    assert result.rejects.height == 0


def test_department_move_emits_all_its_staff():
    changes = {"department": raw("department", [department(1, location="Bristol", lu=T1)])}
    result = transform(changes, base_state())
    st = result.tables["dim_staff"]
    assert st.get_column("staff_id").to_list() == [1, 2]
    assert st.get_column("location").to_list() == ["Bristol", "Bristol"]
    assert result.tables["fact_sales_order"].height == 0


def test_staff_change_joins_department_from_state():
    changes = {"staff": raw("staff", [staff(3, 1, lu=T1, first_name="Moved")])}
    result = transform(changes, base_state())
    st = result.tables["dim_staff"].row(0, named=True)
    assert st["staff_id"] == 3 and st["department_name"] == "Dept 1" and st["first_name"] == "Moved"
    assert result.tables["dim_staff"].height == 1


def test_new_state_merges():
    changes = {
        "address": raw("address", [address(2, city="Hull", lu=T1), address(3, city="Derby")]),
        "staff": raw("staff", [staff(1, 2, lu=T2), staff(1, 1, lu=T1)]),
    }
    prior = base_state()
    new = transform(changes, prior).new_state
    assert set(new) == set(STATE_TABLES)
    for table in STATE_TABLES:
        assert new[table].schema == RAW_SCHEMAS[table], table
    assert dict(new["address"].select("address_id", "city").iter_rows()) == {
        1: "Leeds",
        2: "Hull",
        3: "Derby",
    }
    assert dict(new["staff"].select("staff_id", "department_id").iter_rows()) == {1: 2, 2: 1, 3: 2}
    assert new["counterparty"].equals(prior["counterparty"])
    # an older version than the state never overwrites it
    stale = {"address": raw("address", [address(2, city="Stale", lu=dt.datetime(2020, 1, 1))])}
    again = transform(stale, new).new_state
    assert dict(again["address"].select("address_id", "city").iter_rows())[2] == "Hull"


# ---------------------------------------------------------------------------------------------------
# rejects, unknown currencies


def test_unparseable_date_is_rejected_rest_proceeds():
    changes = {
        "sales_order": raw(
            "sales_order",
            [sales_order(1), sales_order(2, agreed_delivery_date="not a date")],
            source_key="raw/sales_order/batch-7.parquet",
        )
    }
    result = transform(changes, {})
    assert result.tables["fact_sales_order"].get_column("sales_order_id").to_list() == [1]
    rej = result.rejects
    assert rej.schema == pl.Schema(
        {
            "table": pl.String,
            "source_key": pl.String,
            "primary_key": pl.Int32,
            "reason": pl.String,
            "row": pl.String,
        }
    )
    assert rej.height == 1
    r = rej.row(0, named=True)
    assert r["table"] == "sales_order"
    assert r["source_key"] == "raw/sales_order/batch-7.parquet"
    assert r["primary_key"] == 2
    assert r["reason"] == "agreed_delivery_date: cannot parse 'not a date' as a date"
    row = json.loads(r["row"])
    assert row["sales_order_id"] == 2 and row["agreed_delivery_date"] == "not a date"
    assert row["unit_price"] == "2.37"


def test_null_required_values_are_rejected():
    changes = {
        "payment": raw("payment", [payment(1, counterparty_id=None), payment(2)]),
        "purchase_order": raw("purchase_order", [purchase_order(1, item_code=None)]),
    }
    result = transform(changes, {})
    assert result.tables["fact_payment"].get_column("payment_id").to_list() == [2]
    assert result.tables["fact_purchase_order"].height == 0
    reasons = dict(result.rejects.select("table", "reason").iter_rows())
    assert reasons["payment"] == "counterparty_id: required value is null"
    assert reasons["purchase_order"] == "item_code: required value is null"


def test_a_reason_names_every_null_with_identity_and_audit_columns_first():
    changes = {"sales_order": raw("sales_order", [sales_order(1, lu=None, created_at=None, design_id=None)])}
    assert transform(changes, {}).rejects.get_column("reason").to_list() == [
        "created_at: required value is null; last_updated: required value is null; design_id: required value is null"
    ]


def test_counterparty_with_unknown_address_is_rejected_but_kept_in_state():
    changes = {"counterparty": raw("counterparty", [counterparty(9, 99)])}
    result = transform(changes, base_state())
    assert result.tables["dim_counterparty"].height == 0
    r = result.rejects.row(0, named=True)
    assert r["table"] == "counterparty" and r["primary_key"] == 9
    assert r["reason"] == "legal_address_id: address 99 not found"
    assert 9 in result.new_state["counterparty"].get_column("counterparty_id").to_list()
    # once the address arrives, the counterparty is emitted
    later = transform({"address": raw("address", [address(99)])}, result.new_state)
    assert later.tables["dim_counterparty"].get_column("counterparty_id").to_list() == [9]


def test_unknown_currency_never_blocks():
    changes = {"currency": raw("currency", [currency(1, "GBP"), currency(4, "XYZ"), currency(5, "XYZ")])}
    result = transform(changes, {})
    cur = dict(result.tables["dim_currency"].select("currency_id", "currency_name").iter_rows())
    assert cur == {1: "Pound Sterling", 4: "Unknown currency XYZ", 5: "Unknown currency XYZ"}
    assert result.unknown_currencies == ["XYZ"]
    assert result.rejects.height == 0


# ---------------------------------------------------------------------------------------------------
# speed (a sanity print, not an assertion)


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


def test_rejected_copy_does_not_shadow_a_valid_version():
    changes = {"sales_order": raw("sales_order", [sales_order(1), sales_order(1, agreed_delivery_date="bad")])}
    result = transform(changes, {})
    assert result.tables["fact_sales_order"].height == 1
    assert result.rejects.get_column("reason").to_list() == ["agreed_delivery_date: cannot parse 'bad' as a date"]
