"""Rows the ingestion tests put in a fresh totesys source: one per table, and more sales orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg

T0 = datetime(2024, 11, 3, 14, 20, 11, 123000)

SALES_ORDER_COLUMNS = (
    "design_id, staff_id, counterparty_id, units_sold, unit_price, currency_id, agreed_delivery_date,"
    " agreed_payment_date, agreed_delivery_location_id"
)

# table -> (columns, values) of its one row, before created_at and last_updated (both T0). Enough for
# every foreign key; NULL and '' side by side, a quote, an enum and exact numerics.
MINIMAL_ROWS: dict[str, tuple[str, str]] = {
    "address": (
        "address_line_1, address_line_2, district, city, postal_code, country, phone",
        "'6826 Herzog Via', NULL, '', 'New Patienceburgh', '28441', 'Turkey', '1803 637401'",
    ),
    "counterparty": ("counterparty_legal_name, legal_address_id", "'Fahey and Sons', 1"),
    "currency": ("currency_code", "'GBP'"),
    "department": ("department_name, location, manager", "'Sales', 'Manchester', 'Richard Roma'"),
    "design": ("design_name, file_location, file_name", "'Wooden', '/usr', 'wooden-20220717-npgz.json'"),
    "payment_type": ("payment_type_name", "'SALES_RECEIPT'"),
    "staff": (
        "first_name, last_name, department_id, email_address",
        "'Jeremie', 'O''Franey', 1, 'jeremie.ofraney@terrifictotes.com'",
    ),
    "sales_order": (SALES_ORDER_COLUMNS, "1, 1, 1, 1000, 3.94, 1, '2022-11-10', '2022-11-08', 1"),
    "purchase_order": (
        "staff_id, counterparty_id, item_code, item_quantity, item_unit_price, currency_id, agreed_delivery_date,"
        " agreed_payment_date, agreed_delivery_location_id",
        "1, 1, 'ZDOI5EA', 371, 361.39, 1, '2022-11-09', '2022-11-07', 1",
    ),
    "transaction": ("transaction_type, sales_order_id", "'SALE', 1"),
    "payment": (
        "transaction_id, counterparty_id, payment_amount, currency_id, payment_type_id, paid, payment_date,"
        " company_ac_number, counterparty_ac_number",
        "1, 1, 12345678.91, 1, 1, false, '2022-11-05', 67305075, 31622269",
    ),
}


def insert_minimal_source(conn: psycopg.Connection) -> None:
    """One row per table, in foreign-key order, every one last updated at T0 (a millisecond timestamp)."""
    for table, (columns, values) in MINIMAL_ROWS.items():
        conn.execute(f"INSERT INTO {table} ({columns}, created_at, last_updated) VALUES ({values}, %s, %s)", (T0, T0))


def add_sales_order(conn: psycopg.Connection, last_updated: datetime, unit_price=Decimal("2.50")) -> int:
    """Another sales order (same design, staff and counterparty); returns its id."""
    return conn.execute(
        f"INSERT INTO sales_order ({SALES_ORDER_COLUMNS}, created_at, last_updated)"
        " VALUES (1, 1, 1, 1000, %s, 1, '2022-11-10', '2022-11-08', 1, %s, %s) RETURNING sales_order_id",
        (unit_price, last_updated, last_updated),
    ).fetchone()[0]
