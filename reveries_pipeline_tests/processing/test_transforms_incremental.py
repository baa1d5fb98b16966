"""Incremental transform passes: versions of a row (history for facts, latest for dimensions), changes
that reach other tables through joins, and how the new state merges with the prior one."""

from __future__ import annotations

import datetime as dt

import polars as pl

from reveries_pipeline.processing.raw_schemas import RAW_SCHEMAS
from reveries_pipeline.processing.schemas import TARGET_SCHEMAS
from reveries_pipeline.processing.transforms import STATE_TABLES, transform
from reveries_pipeline_tests.processing.ddl_contract import assert_schema
from reveries_pipeline_tests.processing.raw_rows import (
    T0,
    T1,
    T2,
    address,
    base_state,
    department,
    design,
    raw,
    sales_order,
    staff,
)


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
