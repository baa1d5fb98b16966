"""The decoder on messages the real PostgreSQL 18 server sends, read raw from the slot."""

from __future__ import annotations

import os

import pytest

from reveries_pipeline.ingestion.logical import ensure_publication_and_slot
from reveries_pipeline.ingestion.logical.pgoutput import (
    UNCHANGED_TOAST,
    Begin,
    Commit,
    Delete,
    Insert,
    Origin,
    Relation,
    Truncate,
    Type,
    Update,
)
from reveries_pipeline_tests.ingestion.logical.support import delete, insert, peek_messages, update


@pytest.fixture
def slot(conn, cdc_settings):
    ensure_publication_and_slot(conn, cdc_settings)
    return cdc_settings


def kinds(messages) -> list[str]:
    return [type(m).__name__ for m in messages]


def test_an_insert_transaction(conn, slot):
    key = insert(conn, "currency", currency_code="CHF")
    begin, relation, change, commit = messages = peek_messages(conn, slot)
    assert kinds(messages) == ["Begin", "Relation", "Insert", "Commit"]
    assert isinstance(begin, Begin) and isinstance(commit, Commit)
    assert begin.final_lsn == commit.commit_lsn < commit.end_lsn and begin.commit_time_us == commit.commit_time_us
    oid, replica_identity = conn.execute("SELECT oid, relreplident FROM pg_class WHERE relname = 'currency'").fetchone()
    assert (
        relation == Relation(oid, "public", "currency", replica_identity, relation.columns) and replica_identity == "f"
    )
    assert [(c.name, c.type_oid, c.type_modifier) for c in relation.columns] == [
        ("currency_id", 23, -1),
        ("currency_code", 1043, 7),  # varchar(3): 3 + 4
        ("created_at", 1114, 3),
        ("last_updated", 1114, 3),
    ]
    assert change == Insert(oid, (str(key), "CHF", "2024-11-03 14:20:11.123", "2024-11-03 14:20:11.123"))


def test_an_enum_column_brings_a_type_message(conn, slot):
    insert(conn, "payment_type", payment_type_name="SALES_REFUND")
    messages = peek_messages(conn, slot)
    assert kinds(messages) == ["Begin", "Type", "Relation", "Insert", "Commit"]
    type_oid = conn.execute("SELECT '\"PaymentTypeName\"'::regtype::oid").fetchone()[0]
    assert messages[1] == Type(type_oid, "public", "PaymentTypeName")
    assert messages[3].new[1] == "SALES_REFUND"


def test_a_replicated_transaction_carries_its_origin(conn, slot):
    conn.execute("SELECT pg_replication_origin_create('upstream_test')")
    try:
        conn.execute("SELECT pg_replication_origin_session_setup('upstream_test')")
        with conn.transaction():
            conn.execute("SELECT pg_replication_origin_xact_setup('0/ABCDEF', now())")
            update(conn, "currency", 1, currency_code="JPY")
        conn.execute("SELECT pg_replication_origin_session_reset()")
    finally:
        conn.execute("SELECT pg_replication_origin_drop('upstream_test')")
    messages = peek_messages(conn, slot)
    assert kinds(messages) == ["Begin", "Origin", "Relation", "Update", "Commit"]
    assert messages[1] == Origin(0xABCDEF, "upstream_test")


def test_full_identity_update_sends_the_old_row_and_leaves_toast_out_of_the_new(conn, slot):
    big = os.urandom(6000).hex()
    key = insert(conn, "design", design_name="Big", file_location="/big", file_name=big)
    update(conn, "design", key, design_name="Bigger")
    inserted, updated = [m for m in peek_messages(conn, slot) if isinstance(m, Insert | Update)]
    assert inserted.new[4] == big  # written in the same transaction: the value is in the WAL
    assert isinstance(updated, Update) and updated.old_kind == "O"
    assert updated.old[:5] == (str(key), "2024-11-03 14:20:11.123", "Big", "/big", big)
    assert updated.new[:5] == (str(key), "2024-11-03 14:20:11.123", "Bigger", "/big", UNCHANGED_TOAST)


def test_default_identity_sends_old_keys_only(conn, slot):
    conn.execute("ALTER TABLE currency REPLICA IDENTITY DEFAULT")
    key = insert(conn, "currency", currency_code="CHF")
    update(conn, "currency", key, currency_code="SEK")
    conn.execute("UPDATE currency SET currency_id = 77 WHERE currency_id = %s", (key,))
    delete(conn, "currency", 77)
    changes = [m for m in peek_messages(conn, slot) if isinstance(m, Insert | Update | Delete)]
    assert kinds(changes) == ["Insert", "Update", "Update", "Delete"]
    assert changes[1].old is None  # the key didn't change: no old tuple at all
    assert (changes[2].old_kind, changes[2].old) == ("K", (str(key), None, None, None))
    assert (changes[3].old_kind, changes[3].old) == ("K", ("77", None, None, None))


def test_truncate(conn, slot):
    conn.execute("TRUNCATE payment")
    messages = peek_messages(conn, slot)
    assert kinds(messages) == ["Begin", "Relation", "Truncate", "Commit"]
    assert messages[2] == Truncate((messages[1].relation_id,), cascade=False, restart_identity=False)
