"""Plain helpers of the logical capture tests (fixtures are in conftest.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import psycopg
import pyarrow.parquet as pq
from psycopg import sql
from psycopg.rows import dict_row

from reveries_pipeline.ingestion.logical import LogicalCaptureSettings, SlotRead
from reveries_pipeline.ingestion.logical.pgoutput import Message, decode_message
from reveries_pipeline.ingestion.source_schema import describe_source_table

T0 = datetime(2024, 11, 3, 14, 20, 11, 123000)
CAPTURE_COLUMNS = ("_unrepresentable", "_op", "_commit_lsn", "_commit_time", "_change_seq")

# One row per table, parents first: enough for every foreign key, with exact numerics and a null.
BASE_ROWS: dict[str, dict[str, object]] = {
    "address": dict(
        address_line_1="6826 Herzog Via", address_line_2=None, district="", city="New Patienceburgh",
        postal_code="28441", country="Turkey", phone="1803 637401",
    ),
    "counterparty": dict(counterparty_legal_name="Fahey and Sons", legal_address_id=1),
    "currency": dict(currency_code="GBP"),
    "department": dict(department_name="Sales", location="Manchester", manager="Richard Roma"),
    "design": dict(design_name="Wooden", file_location="/usr", file_name="wooden-20220717-npgz.json"),
    "payment_type": dict(payment_type_name="SALES_RECEIPT"),
    "staff": dict(
        first_name="Jeremie", last_name="O'Franey", department_id=1, email_address="jeremie.ofraney@terrifictotes.com"
    ),
    "sales_order": dict(
        design_id=1, staff_id=1, counterparty_id=1, units_sold=1000, unit_price=Decimal("3.94"), currency_id=1,
        agreed_delivery_date="2022-11-10", agreed_payment_date="2022-11-08", agreed_delivery_location_id=1,
    ),
    "purchase_order": dict(
        staff_id=1, counterparty_id=1, item_code="ZDOI5EA", item_quantity=371, item_unit_price=Decimal("361.39"),
        currency_id=1, agreed_delivery_date="2022-11-09", agreed_payment_date="2022-11-07",
        agreed_delivery_location_id=1,
    ),
    "transaction": dict(transaction_type="SALE", sales_order_id=1),
    "payment": dict(
        transaction_id=1, counterparty_id=1, payment_amount=Decimal("12345678.91"), currency_id=1, payment_type_id=1,
        paid=False, payment_date="2022-11-05", company_ac_number=67305075, counterparty_ac_number=31622269,
    ),
}  # fmt: skip


def new_settings(**overrides) -> LogicalCaptureSettings:
    """Slot names are cluster-wide and the server is shared: a unique pair per test."""
    suffix = uuid.uuid4().hex[:10]
    return LogicalCaptureSettings(publication=f"pub_{suffix}", slot=f"slot_{suffix}", **overrides)


def insert(conn: psycopg.Connection, table: str, **values) -> int:
    """Insert a row (created_at/last_updated default to T0); returns its primary key."""
    values = {"created_at": T0, "last_updated": T0, **values}
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
        sql.Identifier(f"{table}_id"),
    )
    return conn.execute(query, list(values.values())).fetchone()[0]


def update(conn: psycopg.Connection, table: str, key: int, **values) -> None:
    query = sql.SQL("UPDATE {} SET {} WHERE {} = %s").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in values),
        sql.Identifier(f"{table}_id"),
    )
    assert conn.execute(query, [*values.values(), key]).rowcount == 1


def delete(conn: psycopg.Connection, table: str, key: int) -> None:
    query = sql.SQL("DELETE FROM {} WHERE {} = %s").format(sql.Identifier(table), sql.Identifier(f"{table}_id"))
    assert conn.execute(query, (key,)).rowcount == 1


def insert_base_rows(conn: psycopg.Connection) -> None:
    for table, values in BASE_ROWS.items():
        insert(conn, table, **values)


def spooled(capture: SlotRead) -> dict[str, list[dict]]:
    """{table: rows in file order} of a capture's spool files."""
    return {name: pq.read_table(t.path).to_pylist() for name, t in capture.tables.items()}


def source_rows(conn: psycopg.Connection, table: str) -> dict[int, dict]:
    """The table as psycopg's own loaders read it: the oracle the spooled values are checked against."""
    key = f"{table}_id"
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))).fetchall()
    return {row[key]: row for row in rows}


def replay(captures: list[SlotRead]) -> dict[str, dict[int, dict]]:
    """The tables as a keyed ledger ends up after applying the captures in order."""
    state: dict[str, dict[int, dict]] = {}
    for table, rows in ((t, r) for c in captures for t, r in spooled(c).items()):
        ledger = state.setdefault(table, {})
        for row in rows:
            values = {k: v for k, v in row.items() if k not in CAPTURE_COLUMNS}
            if row["_op"] == "truncate":
                ledger.clear()
            elif row["_op"] == "delete":
                ledger.pop(values[f"{table}_id"], None)
            else:
                ledger[values[f"{table}_id"]] = values
    return state


def peek_messages(conn: psycopg.Connection, settings: LogicalCaptureSettings) -> list[Message]:
    """Every pgoutput message the slot holds, decoded, without consuming them."""
    rows = conn.execute(
        "SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL,"
        " 'proto_version', '1', 'publication_names', %s)",
        (settings.slot, settings.publication),
    ).fetchall()
    return [decode_message(data) for (data,) in rows]


def slot_positions(conn: psycopg.Connection, slot: str) -> tuple[str, str]:
    return conn.execute(
        "SELECT confirmed_flush_lsn::text, restart_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (slot,)
    ).fetchone()


def source_columns(conn: psycopg.Connection, table: str) -> list[str]:
    with conn.transaction():
        return describe_source_table(conn, table).columns


def blocked_on_a_lock(conn: psycopg.Connection, database: str) -> bool:
    """Whether a session of `database` waits on a LOCK TABLE (how a test holds a read mid-way)."""
    return conn.execute(
        "SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted"
        " AND a.datname = %s AND a.query LIKE 'LOCK TABLE%%'",
        (database,),
    ).fetchone()[0]
