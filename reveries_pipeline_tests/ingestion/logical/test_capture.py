"""read_changes + confirm against the real server: exact values, every change, the heartbeat, chunks."""

from __future__ import annotations

import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reveries_pipeline.ingestion.logical import (
    LogicalCaptureSettings,
    UnchangedToastError,
    change_schema,
    confirm,
    ensure_publication_and_slot,
    lsn_text,
    parse_lsn,
    read_changes,
    retained_wal_bytes,
)
from reveries_pipeline.ingestion.source_schema import describe_source_table
from reveries_pipeline_tests.ingestion.logical.support import (
    CAPTURE_COLUMNS,
    T0,
    delete,
    insert,
    slot_positions,
    source_rows,
    spooled,
    update,
)


@pytest.fixture
def slot(conn, cdc_settings) -> LogicalCaptureSettings:
    ensure_publication_and_slot(conn, cdc_settings)
    return cdc_settings


def test_values_and_schema_are_exact(conn, slot, spool_dirs):
    transaction = insert(conn, "transaction", transaction_type="PURCHASE", purchase_order_id=1)
    key = insert(
        conn, "payment", transaction_id=transaction, counterparty_id=1, payment_amount=Decimal("99999999.99"),
        currency_id=1, payment_type_id=1, paid=True, payment_date="2024-02-29", company_ac_number=-2147483648,
        counterparty_ac_number=2147483647, last_updated=datetime(2024, 11, 3, 23, 59, 59, 999000),
    )  # fmt: skip
    insert(conn, "address", address_line_1="Ünïcödé ✓ \t tab\nnewline \\ back", address_line_2="", district=None,
           city="x", postal_code="", country="", phone="")  # fmt: skip
    capture = read_changes(conn, slot, next(spool_dirs))
    rows = spooled(capture)
    with conn.transaction():
        expected_schema = change_schema(describe_source_table(conn, "payment"))
    assert pq.read_schema(capture.tables["payment"].path).equals(expected_schema, check_metadata=True)
    assert pq.read_schema(capture.tables["payment"].path).field("payment_amount").type == pa.decimal128(10, 2)
    assert pq.read_schema(capture.tables["payment"].path).field("last_updated").type == pa.timestamp("ms")
    assert rows["transaction"][0]["transaction_type"] == "PURCHASE"  # an enum: its label
    [payment] = rows["payment"]
    assert {k: v for k, v in payment.items() if k not in CAPTURE_COLUMNS} == source_rows(conn, "payment")[key]
    [address] = rows["address"]
    assert {k: v for k, v in address.items() if k not in CAPTURE_COLUMNS} == source_rows(conn, "address")[2]
    assert address["district"] is None and address["address_line_2"] == ""
    assert payment["_op"] == "insert" and payment["_commit_lsn"] < address["_commit_lsn"]
    assert abs(payment["_commit_time"] - datetime.now(UTC)) < timedelta(minutes=1)


def test_session_formats_do_not_change_values(cdc_source, slot, spool_dirs):
    """Output functions follow DateStyle/TimeZone: the read pins them, whatever the session says."""
    options = "-c DateStyle=SQL,DMY -c TimeZone=Asia/Tokyo -c extra_float_digits=-3"
    with psycopg.connect(cdc_source, autocommit=True, options=options) as conn:
        key = insert(conn, "sales_order", design_id=1, staff_id=1, counterparty_id=1, units_sold=5,
                     unit_price=Decimal("12345678.90"), currency_id=1, agreed_delivery_date="2024-01-02",
                     agreed_payment_date="2024-01-03", agreed_delivery_location_id=1,
                     last_updated=datetime(2024, 1, 2, 3, 4, 5, 6000))  # fmt: skip
        [row] = spooled(read_changes(conn, slot, next(spool_dirs)))["sales_order"]
        assert conn.execute("SHOW DateStyle").fetchone()[0] == "SQL, DMY"  # SET LOCAL: the session keeps its own
    assert row["last_updated"] == datetime(2024, 1, 2, 3, 4, 5, 6000)
    assert row["unit_price"] == Decimal("12345678.90") and row["sales_order_id"] == key


def test_every_intermediate_update_in_order_and_rollbacks_never(conn, slot, spool_dirs):
    update(conn, "currency", 1, currency_code="EUR")
    with conn.transaction():
        update(conn, "currency", 1, currency_code="USD")
        update(conn, "currency", 1, currency_code="JPY")
    with pytest.raises(ZeroDivisionError), conn.transaction():
        update(conn, "currency", 1, currency_code="XXX")
        raise ZeroDivisionError
    delete(conn, "currency", insert(conn, "currency", currency_code="CHF"))
    rows = spooled(read_changes(conn, slot, next(spool_dirs)))["currency"]
    assert [(r["_op"], r["currency_id"], r["currency_code"]) for r in rows] == [
        ("update", 1, "EUR"),
        ("update", 1, "USD"),
        ("update", 1, "JPY"),
        ("insert", 2, "CHF"),
        ("delete", 2, "CHF"),  # REPLICA IDENTITY FULL: a delete carries the whole old row
    ]
    assert rows[1]["_commit_lsn"] == rows[2]["_commit_lsn"]  # one transaction
    assert [r["_change_seq"] for r in rows] == [0, 0, 1, 0, 0]
    lsns = [r["_commit_lsn"] for r in rows]
    assert lsns == sorted(lsns)


def test_reading_does_not_consume_and_confirm_does(conn, slot, spool_dirs):
    update(conn, "department", 1, location="Leeds")
    first = read_changes(conn, slot, next(spool_dirs))
    again = read_changes(conn, slot, next(spool_dirs))
    assert spooled(first) == spooled(again) and first.rows == 1
    assert parse_lsn(slot_positions(conn, slot.slot)[0]) == first.start_lsn
    assert confirm(conn, slot, first.upto_lsn) >= first.upto_lsn
    after = read_changes(conn, slot, next(spool_dirs))
    assert after.tables == {} and after.start_lsn >= first.upto_lsn
    # confirming again, or an older position, is a no-op rather than an error
    assert confirm(conn, slot, first.upto_lsn) == confirm(conn, slot, first.start_lsn) >= first.upto_lsn


def test_heartbeat_moves_the_slot_when_none_of_the_tables_changed(conn, slot, spool_dirs):
    conn.execute("CREATE TABLE noise (id serial PRIMARY KEY, payload text)")
    confirm(conn, slot, read_changes(conn, slot, next(spool_dirs)).upto_lsn)
    before, _ = slot_positions(conn, slot.slot)
    conn.execute("INSERT INTO noise (payload) SELECT repeat('x', 200) FROM generate_series(1, 20000)")
    held = retained_wal_bytes(conn, slot)
    assert held > 4_000_000  # the slot now holds the noise table's WAL
    capture = read_changes(conn, slot, next(spool_dirs))
    assert capture.tables == {} and capture.transactions == 0
    assert capture.upto_lsn > parse_lsn(before)
    confirm(conn, slot, capture.upto_lsn)
    after, _ = slot_positions(conn, slot.slot)
    assert parse_lsn(after) >= capture.upto_lsn > parse_lsn(before)
    # restart_lsn, what the disk keeps, follows a capture or two later: it moves to a running-
    # transactions record (the source logs one every 15 s while busy). Log them now rather than wait.
    for _ in range(2):
        conn.execute("SELECT pg_log_standby_snapshot()")
        conn.execute("INSERT INTO noise (payload) VALUES ('flushes the WAL before it')")
        confirm(conn, slot, read_changes(conn, slot, next(spool_dirs)).upto_lsn)
    assert retained_wal_bytes(conn, slot) < held / 4


def test_unchanged_toast_comes_from_the_old_row(conn, slot, spool_dirs):
    big = os.urandom(6000).hex()  # 12 kB of incompressible text: stored out of line
    key = insert(conn, "design", design_name="Big", file_location="/big", file_name=big)
    assert conn.execute("SELECT pg_column_compression(file_name) IS NULL AND pg_column_size(file_name) > 8000"
                        " FROM design WHERE design_id = %s", (key,)).fetchone()[0]  # fmt: skip
    confirm(conn, slot, read_changes(conn, slot, next(spool_dirs)).upto_lsn)
    update(conn, "design", key, design_name="Bigger")
    update(conn, "design", key, last_updated=T0 + timedelta(milliseconds=1))
    delete(conn, "design", key)
    rows = spooled(read_changes(conn, slot, next(spool_dirs)))["design"]
    assert [(r["_op"], r["design_name"], r["file_name"]) for r in rows] == [
        ("update", "Bigger", big),
        ("update", "Bigger", big),
        ("delete", "Bigger", big),
    ]
    assert rows[1]["last_updated"] == T0 + timedelta(milliseconds=1)


def test_unchanged_toast_without_full_identity_is_an_error_not_a_null(conn, slot, spool_dirs):
    key = insert(conn, "design", design_name="Big", file_location="/big", file_name=os.urandom(6000).hex())
    conn.execute("ALTER TABLE design REPLICA IDENTITY DEFAULT")
    update(conn, "design", key, design_name="Bigger")
    with pytest.raises(UnchangedToastError, match=r"design\.file_name.*REPLICA IDENTITY FULL"):
        read_changes(conn, slot, next(spool_dirs))


def test_a_new_primary_key_is_a_delete_and_an_insert(conn, slot, spool_dirs):
    key = insert(conn, "currency", currency_code="CHF")
    confirm(conn, slot, read_changes(conn, slot, next(spool_dirs)).upto_lsn)
    conn.execute("UPDATE currency SET currency_id = 99 WHERE currency_id = %s", (key,))
    rows = spooled(read_changes(conn, slot, next(spool_dirs)))["currency"]
    assert [(r["_op"], r["currency_id"], r["currency_code"]) for r in rows] == [
        ("delete", key, "CHF"),
        ("insert", 99, "CHF"),
    ]


def test_truncate_is_a_row_of_its_own(conn, slot, spool_dirs):
    update(conn, "payment", 1, paid=True)
    conn.execute("TRUNCATE payment")
    rows = spooled(read_changes(conn, slot, next(spool_dirs)))["payment"]
    assert [r["_op"] for r in rows] == ["update", "truncate"]
    assert all(v is None for k, v in rows[1].items() if k not in CAPTURE_COLUMNS)


def test_chunks_bound_what_is_held_and_change_nothing(conn, cdc_settings, spool_dirs):
    ensure_publication_and_slot(conn, cdc_settings)
    for n in range(60):
        update(conn, "staff", 1, first_name=f"name {n}")
    conn.execute(
        "INSERT INTO currency (currency_code, last_updated) SELECT 'C' || n, now() FROM generate_series(1, 50) n"
    )
    small = LogicalCaptureSettings(cdc_settings.publication, cdc_settings.slot, chunk_rows=7)
    chunked, whole = read_changes(conn, small, next(spool_dirs)), read_changes(conn, cdc_settings, next(spool_dirs))
    assert spooled(chunked) == spooled(whole)
    assert chunked.tables["staff"].rows == 60 and chunked.tables["currency"].rows == 50
    assert pq.ParquetFile(chunked.tables["staff"].path).num_row_groups == 9  # 60 rows, 7 a group
    assert chunked.upto_lsn == whole.upto_lsn or chunked.upto_lsn < whole.upto_lsn
    assert lsn_text(chunked.upto_lsn) == chunked.upto_lsn_text


def test_a_large_backlog_is_held_a_chunk_at_a_time(conn, slot, spool_dirs):
    """20 MB of changes, read 100 rows at a time: Python never holds more than a few chunks."""
    conn.execute(
        "INSERT INTO design (design_name, file_location, file_name, last_updated)"
        " SELECT 'd' || n, '/', repeat(md5(n::text), 128), now() FROM generate_series(1, 5000) n"
    )
    small = LogicalCaptureSettings(slot.publication, slot.slot, chunk_rows=100)
    whole = LogicalCaptureSettings(slot.publication, slot.slot, chunk_rows=10_000)
    read_changes(conn, whole, next(spool_dirs))  # what pyarrow imports on first use is not the backlog

    def peak_of(settings):
        tracemalloc.start()
        try:
            return read_changes(conn, settings, next(spool_dirs)), tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    (capture, chunked), (_, unchunked) = peak_of(small), peak_of(whole)
    assert capture.tables["design"].rows == 5000
    assert (
        pq.read_table(capture.tables["design"].path, columns=["file_name"])["file_name"][4999].as_py()
        == (conn.execute("SELECT file_name FROM design WHERE design_name = 'd5000'").fetchone()[0])
    )
    assert chunked < 8_000_000 < 20_000_000 < unchunked, (chunked, unchunked)
