"""The 11 totesys tables, in foreign-key order, and the DDL that creates them."""

from __future__ import annotations

from importlib.resources import files

import psycopg

# Parents before children: seeding and truncation follow this order.
TOTESYS_TABLES: tuple[str, ...] = (
    "address",
    "counterparty",
    "currency",
    "department",
    "design",
    "payment_type",
    "staff",
    "sales_order",
    "purchase_order",
    "transaction",
    "payment",
)

PRIMARY_KEYS: dict[str, str] = {t: f"{t}_id" for t in TOTESYS_TABLES}


def totesys_ddl() -> str:
    return files("reveries_pipeline.totesys").joinpath("ddl.sql").read_text()


def apply_totesys_ddl(conn: psycopg.Connection) -> None:
    """Create the schema if absent (idempotent)."""
    conn.execute(totesys_ddl())
