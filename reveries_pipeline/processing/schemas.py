"""Target schemas of the processed (star-schema) parquet tables: the output contract of processing.

They mirror ``reveries_pipeline/warehouse/ddl.sql`` exactly (column order, types and nullability),
except for the fact tables' SERIAL record ids, which the warehouse assigns on load. Which tables
there are, their keys, and which are facts come from the catalog (``catalog.STAR_TABLES``).
"""

from __future__ import annotations

import polars as pl
from dagster import TableColumn, TableColumnConstraints, TableSchema

from reveries_pipeline.catalog import DELETED_ROWS, STAR_TABLE_NAMES, STAR_TABLES

_INT = pl.Int32()
_STR = pl.String()
_DATE = pl.Date()
_TIME = pl.Time()
_MONEY = pl.Decimal(10, 2)
_BOOL = pl.Boolean()
_TIMESTAMP = pl.Datetime("us")

# Type names in the column schema that Dagster's asset catalog shows (column_schema below).
_TYPE_NAMES: dict[pl.DataType, str] = {
    _INT: "int32",
    _STR: "string",
    _DATE: "date",
    _TIME: "time",
    _MONEY: "decimal(10,2)",
    _BOOL: "boolean",
    _TIMESTAMP: "timestamp",
}

# Every table's columns; which tables there are, and in what order, is the catalog's.
_COLUMNS: dict[str, pl.Schema] = {
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

TARGET_SCHEMAS: dict[str, pl.Schema] = {name: _COLUMNS[name] for name in STAR_TABLE_NAMES}

# The deletion markers (catalog.DELETED_ROWS): its key columns, then when the source deleted the row
# (null when unknown). Mirrors reveries_deleted_rows in ddl.sql.
DELETED_ROWS_SCHEMA = pl.Schema(
    dict(zip(DELETED_ROWS.key, (_STR, _INT, _DATE, _TIME), strict=True)) | {DELETED_ROWS.deleted_at: _TIMESTAMP}
)

# Every table processing writes: the star tables, then the deletion markers.
PROCESSED_SCHEMAS: dict[str, pl.Schema] = {**TARGET_SCHEMAS, DELETED_ROWS.name: DELETED_ROWS_SCHEMA}

# Columns that may hold nulls (every other column is NOT NULL in the warehouse).
NULLABLE_COLUMNS: dict[str, set[str]] = {name: set() for name in PROCESSED_SCHEMAS}
NULLABLE_COLUMNS["dim_location"] = {"address_line_2", "district"}
NULLABLE_COLUMNS["dim_counterparty"] = {"counterparty_legal_address_line_2", "counterparty_legal_district"}
NULLABLE_COLUMNS["dim_transaction"] = {"sales_order_id", "purchase_order_id"}
NULLABLE_COLUMNS[DELETED_ROWS.name] = {DELETED_ROWS.deleted_at}

# Dimensions: their natural id. Facts: one row per source version, so natural id + last-updated.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {name: spec.key for name, spec in STAR_TABLES.items()}


def as_target(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Exactly the table's target columns, in order, with their dtypes."""
    return frame.select([pl.col(c).cast(dtype) for c, dtype in TARGET_SCHEMAS[name].items()])


def empty_target(name: str) -> pl.DataFrame:
    return pl.DataFrame(schema=TARGET_SCHEMAS[name])


def column_schema(name: str) -> TableSchema:
    """The table's processed schema as Dagster shows it: names, types and nullability."""
    return TableSchema(
        columns=[
            TableColumn(
                name=column,
                type=_TYPE_NAMES[dtype],
                constraints=TableColumnConstraints(nullable=column in NULLABLE_COLUMNS[name]),
            )
            for column, dtype in PROCESSED_SCHEMAS[name].items()
        ]
    )
