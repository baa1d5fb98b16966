"""Rows a transform rejects (and the rest that proceed): unparseable and null values, missing parents,
and unknown currencies, which never block."""

from __future__ import annotations

import json

import polars as pl

from reveries_pipeline.processing.transforms import transform
from reveries_pipeline_tests.processing.raw_rows import (
    address,
    base_state,
    counterparty,
    currency,
    payment,
    purchase_order,
    raw,
    sales_order,
)


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


def test_rejected_copy_does_not_shadow_a_valid_version():
    changes = {"sales_order": raw("sales_order", [sales_order(1), sales_order(1, agreed_delivery_date="bad")])}
    result = transform(changes, {})
    assert result.tables["fact_sales_order"].height == 1
    assert result.rejects.get_column("reason").to_list() == ["agreed_delivery_date: cannot parse 'bad' as a date"]
