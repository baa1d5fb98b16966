"""Builders of raw totesys rows and frames for the transform tests: one function per source table
(keyword overrides for the columns a test is about), a full set of changes, and a prior state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from reveries_pipeline.processing.raw_schemas import RAW_SCHEMAS

T0 = dt.datetime(2024, 3, 4, 9, 15, 30, 123000)  # a Monday, with milliseconds
T1 = dt.datetime(2024, 3, 5, 17, 45, 1, 987000)
T2 = dt.datetime(2024, 3, 9, 8, 0, 0, 1000)


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


def base_state() -> dict[str, pl.DataFrame]:
    return {
        "address": state_of("address", [address(1), address(2)]),
        "counterparty": state_of("counterparty", [counterparty(1, 1), counterparty(2, 1), counterparty(3, 2)]),
        "department": state_of("department", [department(1), department(2)]),
        "staff": state_of("staff", [staff(1, 1), staff(2, 1), staff(3, 2)]),
    }
