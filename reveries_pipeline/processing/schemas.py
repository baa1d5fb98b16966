"""Target schemas of the processed (star-schema) parquet tables.

They mirror ``reveries_pipeline/warehouse/ddl.sql`` exactly (column order, types and nullability),
except for the fact tables' SERIAL record ids, which the warehouse assigns on load.
"""

from __future__ import annotations

import polars as pl

_INT = pl.Int32
_STR = pl.String
_DATE = pl.Date
_TIME = pl.Time
_MONEY = pl.Decimal(10, 2)
_BOOL = pl.Boolean

DIMENSION_TABLES: tuple[str, ...] = (
    "dim_date",
    "dim_staff",
    "dim_location",
    "dim_design",
    "dim_currency",
    "dim_counterparty",
    "dim_payment_type",
    "dim_transaction",
)

FACT_TABLES: tuple[str, ...] = ("fact_sales_order", "fact_purchase_order", "fact_payment")

TARGET_SCHEMAS: dict[str, pl.Schema] = {
    "dim_date": pl.Schema(
        {
            "date_id": _DATE,
            "year": _INT,
            "month": _INT,
            "day": _INT,
            "day_of_week": _INT,
            "day_name": _STR,
            "month_name": _STR,
            "quarter": _INT,
        }
    ),
    "dim_staff": pl.Schema(
        {
            "staff_id": _INT,
            "first_name": _STR,
            "last_name": _STR,
            "department_name": _STR,
            "location": _STR,
            "email_address": _STR,
        }
    ),
    "dim_location": pl.Schema(
        {
            "location_id": _INT,
            "address_line_1": _STR,
            "address_line_2": _STR,
            "district": _STR,
            "city": _STR,
            "postal_code": _STR,
            "country": _STR,
            "phone": _STR,
        }
    ),
    "dim_design": pl.Schema({"design_id": _INT, "design_name": _STR, "file_location": _STR, "file_name": _STR}),
    "dim_currency": pl.Schema({"currency_id": _INT, "currency_code": _STR, "currency_name": _STR}),
    "dim_counterparty": pl.Schema(
        {
            "counterparty_id": _INT,
            "counterparty_legal_name": _STR,
            "counterparty_legal_address_line_1": _STR,
            "counterparty_legal_address_line_2": _STR,
            "counterparty_legal_district": _STR,
            "counterparty_legal_city": _STR,
            "counterparty_legal_postal_code": _STR,
            "counterparty_legal_country": _STR,
            "counterparty_legal_phone_number": _STR,
        }
    ),
    "dim_payment_type": pl.Schema({"payment_type_id": _INT, "payment_type_name": _STR}),
    "dim_transaction": pl.Schema(
        {
            "transaction_id": _INT,
            "transaction_type": _STR,
            "sales_order_id": _INT,
            "purchase_order_id": _INT,
        }
    ),
    "fact_sales_order": pl.Schema(
        {
            "sales_order_id": _INT,
            "created_date": _DATE,
            "created_time": _TIME,
            "last_updated_date": _DATE,
            "last_updated_time": _TIME,
            "sales_staff_id": _INT,
            "counterparty_id": _INT,
            "units_sold": _INT,
            "unit_price": _MONEY,
            "currency_id": _INT,
            "design_id": _INT,
            "agreed_payment_date": _DATE,
            "agreed_delivery_date": _DATE,
            "agreed_delivery_location_id": _INT,
        }
    ),
    "fact_purchase_order": pl.Schema(
        {
            "purchase_order_id": _INT,
            "created_date": _DATE,
            "created_time": _TIME,
            "last_updated_date": _DATE,
            "last_updated_time": _TIME,
            "staff_id": _INT,
            "counterparty_id": _INT,
            "item_code": _STR,
            "item_quantity": _INT,
            "item_unit_price": _MONEY,
            "currency_id": _INT,
            "agreed_delivery_date": _DATE,
            "agreed_payment_date": _DATE,
            "agreed_delivery_location_id": _INT,
        }
    ),
    "fact_payment": pl.Schema(
        {
            "payment_id": _INT,
            "created_date": _DATE,
            "created_time": _TIME,
            "last_updated_date": _DATE,
            "last_updated": _TIME,
            "transaction_id": _INT,
            "counterparty_id": _INT,
            "payment_amount": _MONEY,
            "currency_id": _INT,
            "payment_type_id": _INT,
            "paid": _BOOL,
            "payment_date": _DATE,
        }
    ),
}

# Columns that may hold nulls (every other column is NOT NULL in the warehouse).
NULLABLE_COLUMNS: dict[str, set[str]] = {name: set() for name in TARGET_SCHEMAS}
NULLABLE_COLUMNS["dim_location"] = {"address_line_2", "district"}
NULLABLE_COLUMNS["dim_counterparty"] = {"counterparty_legal_address_line_2", "counterparty_legal_district"}
NULLABLE_COLUMNS["dim_transaction"] = {"sales_order_id", "purchase_order_id"}

# Dimensions: their natural id. Facts: one row per source version, so natural id + last-updated.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "dim_date": ("date_id",),
    "dim_staff": ("staff_id",),
    "dim_location": ("location_id",),
    "dim_design": ("design_id",),
    "dim_currency": ("currency_id",),
    "dim_counterparty": ("counterparty_id",),
    "dim_payment_type": ("payment_type_id",),
    "dim_transaction": ("transaction_id",),
    "fact_sales_order": ("sales_order_id", "last_updated_date", "last_updated_time"),
    "fact_purchase_order": ("purchase_order_id", "last_updated_date", "last_updated_time"),
    "fact_payment": ("payment_id", "last_updated_date", "last_updated"),
}

# (fact_table, column, dim_table, dim_column), as in the warehouse DDL's REFERENCES clauses.
FOREIGN_KEYS: list[tuple[str, str, str, str]] = [
    ("fact_sales_order", "created_date", "dim_date", "date_id"),
    ("fact_sales_order", "last_updated_date", "dim_date", "date_id"),
    ("fact_sales_order", "sales_staff_id", "dim_staff", "staff_id"),
    ("fact_sales_order", "counterparty_id", "dim_counterparty", "counterparty_id"),
    ("fact_sales_order", "currency_id", "dim_currency", "currency_id"),
    ("fact_sales_order", "design_id", "dim_design", "design_id"),
    ("fact_sales_order", "agreed_payment_date", "dim_date", "date_id"),
    ("fact_sales_order", "agreed_delivery_date", "dim_date", "date_id"),
    ("fact_sales_order", "agreed_delivery_location_id", "dim_location", "location_id"),
    ("fact_purchase_order", "created_date", "dim_date", "date_id"),
    ("fact_purchase_order", "last_updated_date", "dim_date", "date_id"),
    ("fact_purchase_order", "staff_id", "dim_staff", "staff_id"),
    ("fact_purchase_order", "counterparty_id", "dim_counterparty", "counterparty_id"),
    ("fact_purchase_order", "currency_id", "dim_currency", "currency_id"),
    ("fact_purchase_order", "agreed_delivery_date", "dim_date", "date_id"),
    ("fact_purchase_order", "agreed_payment_date", "dim_date", "date_id"),
    ("fact_purchase_order", "agreed_delivery_location_id", "dim_location", "location_id"),
    ("fact_payment", "created_date", "dim_date", "date_id"),
    ("fact_payment", "last_updated_date", "dim_date", "date_id"),
    ("fact_payment", "transaction_id", "dim_transaction", "transaction_id"),
    ("fact_payment", "counterparty_id", "dim_counterparty", "counterparty_id"),
    ("fact_payment", "currency_id", "dim_currency", "currency_id"),
    ("fact_payment", "payment_type_id", "dim_payment_type", "payment_type_id"),
    ("fact_payment", "payment_date", "dim_date", "date_id"),
]
