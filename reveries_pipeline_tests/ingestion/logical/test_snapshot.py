"""The initial snapshot: exact, consistent, and with no gap before the slot's first change."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pyarrow.parquet as pq
import pytest

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.logical import (
    change_schema,
    confirm,
    ensure_publication_and_slot,
    initial_snapshot,
    read_changes,
    slot_state,
)
from reveries_pipeline.ingestion.source_schema import describe_source_table
from reveries_pipeline_tests.ingestion.logical.support import delete, insert, replay, source_rows, spooled, update
from reveries_pipeline_tests.waiting import Worker, wait_until


def test_snapshot_is_every_row_exactly(seeded_source, cdc_settings, spool_dirs):
    with psycopg.connect(seeded_source, autocommit=True) as conn:
        snapshot = initial_snapshot(conn, cdc_settings, next(spool_dirs))
        lsn = slot_state(conn, cdc_settings).confirmed_flush_lsn
        assert replay([snapshot]) == {t: source_rows(conn, t) for t in SOURCE_TABLE_NAMES}
        with conn.transaction():
            schemas = {t: change_schema(describe_source_table(conn, t)) for t in SOURCE_TABLE_NAMES}
    assert snapshot.start_lsn == snapshot.upto_lsn == lsn
    assert snapshot.rows > 1000
    for table, rows in spooled(snapshot).items():
        assert pq.read_schema(snapshot.tables[table].path).equals(schemas[table], check_metadata=True)
        assert {(r["_op"], r["_commit_lsn"]) for r in rows} == {("snapshot", lsn)}
        keys = [r[f"{table}_id"] for r in rows]
        assert keys == sorted(keys) and [r["_change_seq"] for r in rows] == list(range(len(rows)))


def test_changes_between_the_slot_and_the_snapshot_are_kept(conn, cdc_settings, spool_dirs):
    ensure_publication_and_slot(conn, cdc_settings)  # the slot exists: from here on the WAL has it all
    key = insert(conn, "currency", currency_code="CHF")
    update(conn, "staff", 1, last_name="Roma")
    update(conn, "staff", 1, last_name="Levene")
    delete(conn, "payment", 1)
    snapshot = initial_snapshot(conn, cdc_settings, next(spool_dirs))
    changes = read_changes(conn, cdc_settings, next(spool_dirs))
    captured = spooled(changes)
    # in both: read twice, which the keyed ledgers absorb
    assert [(r["_op"], r["currency_code"]) for r in captured["currency"]] == [("insert", "CHF")]
    assert key in {r["currency_id"] for r in spooled(snapshot)["currency"]}
    assert [(r["_op"], r["last_name"]) for r in captured["staff"]] == [("update", "Roma"), ("update", "Levene")]
    assert [(r["_op"], r["payment_id"]) for r in captured["payment"]] == [("delete", 1)]
    assert "payment" not in snapshot.tables
    assert replay([snapshot, changes]) == {t: source_rows(conn, t) for t in SOURCE_TABLE_NAMES}


def _write_while(dsn: str, transactions: int, done: list[int]) -> None:
    """Inserts, updates and deletes, one short transaction after another."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for n in range(transactions):
            with conn.transaction():
                key = insert(conn, "currency", currency_code=f"{n % 1000:03d}")
                update(conn, "sales_order", 1, unit_price=Decimal(n) / 100, units_sold=n)
                if n % 3 == 0:
                    delete(conn, "currency", key)
            done.append(n)


@pytest.mark.parametrize("existing_slot", [False, True], ids=["first-run", "re-snapshot"])
def test_a_snapshot_taken_under_writes_loses_nothing(conn, cdc_source, cdc_settings, spool_dirs, existing_slot):
    if existing_slot:  # e.g. after a lost slot: the same guarantee from the slot's position
        ensure_publication_and_slot(conn, cdc_settings)
    done: list[int] = []
    writer = Worker(_write_while, cdc_source, 600, done, name="writer").start()
    wait_until(lambda: len(done) >= 20, "the writer's first 20 transactions", timeout=120, watching=[writer])
    snapshot = initial_snapshot(conn, cdc_settings, next(spool_dirs))
    overlapped = writer.is_alive()
    writer.result(timeout=300)  # its error, if it failed mid-way
    assert overlapped, "the writer finished before the snapshot did: nothing was tested"
    changes = read_changes(conn, cdc_settings, next(spool_dirs))
    assert replay([snapshot, changes]) == {t: source_rows(conn, t) for t in SOURCE_TABLE_NAMES}
    confirm(conn, cdc_settings, changes.upto_lsn)
    assert read_changes(conn, cdc_settings, next(spool_dirs)).tables == {}
