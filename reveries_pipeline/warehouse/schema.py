"""The warehouse schema: applies ddl.sql (idempotent) and names the tables in load order."""

from __future__ import annotations

from importlib import resources

import psycopg

# The warehouse holds exactly the processed tables. Load order: dimensions before the facts.
from reveries_pipeline.processing.schemas import DIMENSION_TABLES, FACT_TABLES  # noqa: E402

WAREHOUSE_TABLES: tuple[str, ...] = DIMENSION_TABLES + FACT_TABLES

LEDGER_TABLE = "reveries_load_ledger"
CURRENT_VIEWS: tuple[str, ...] = tuple(f"{fact}_current" for fact in FACT_TABLES)

# Primary key of each dimension (its first column).
DIMENSION_KEY: dict[str, str] = {
    "dim_date": "date_id",
    "dim_staff": "staff_id",
    "dim_location": "location_id",
    "dim_design": "design_id",
    "dim_currency": "currency_id",
    "dim_counterparty": "counterparty_id",
    "dim_payment_type": "payment_type_id",
    "dim_transaction": "transaction_id",
}

# The SERIAL surrogate key of each fact table; processed frames do not carry it.
RECORD_ID: dict[str, str] = {
    "fact_sales_order": "sales_record_id",
    "fact_purchase_order": "purchase_record_id",
    "fact_payment": "payment_record_id",
}

# A fact row version: (natural id, last-updated date column, last-updated time column).
FACT_VERSION_KEY: dict[str, tuple[str, str, str]] = {
    "fact_sales_order": ("sales_order_id", "last_updated_date", "last_updated_time"),
    "fact_purchase_order": ("purchase_order_id", "last_updated_date", "last_updated_time"),
    "fact_payment": ("payment_id", "last_updated_date", "last_updated"),
}

# Serialises concurrent schema applications (CREATE ... IF NOT EXISTS is not race-free).
_DDL_LOCK_KEY = 0x5245_5645_4444_4C  # "REVEDDL"


def warehouse_ddl() -> str:
    """The text of ddl.sql, shipped as package data."""
    return resources.files("reveries_pipeline.warehouse").joinpath("ddl.sql").read_text(encoding="utf-8")


def apply_warehouse_ddl(conn: psycopg.Connection) -> None:
    """Create the warehouse tables, views, indexes and load ledger if absent.

    Idempotent, and safe on a warehouse built beforehand with this schema. Runs in a transaction
    (a savepoint if the caller already has one open); it does not commit the caller's transaction.
    """
    ddl = warehouse_ddl()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK_KEY,))
        # No parameters: psycopg sends the whole script (several statements) in one simple query.
        conn.execute(ddl.encode("utf-8"))


def empty_warehouse(conn: psycopg.Connection) -> None:
    """Create the schema if absent, then empty every table and the load ledger (record ids restart)."""
    from psycopg import sql

    apply_warehouse_ddl(conn)
    tables = sql.SQL(", ").join(sql.Identifier(t) for t in (*WAREHOUSE_TABLES, LEDGER_TABLE))
    conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(tables))
