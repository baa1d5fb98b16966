"""A source that restarts or crashes mid-capture, and a slot the source invalidates, on a server of
these tests' own (stopping the shared one would disrupt every other test)."""

from __future__ import annotations

import os
import signal

import psycopg
import pytest

from reveries_pipeline.embedded import ensure_database
from reveries_pipeline.ingestion.logical import (
    SlotUnavailableError,
    confirm,
    drop_sql,
    initial_snapshot,
    read_changes,
)
from reveries_pipeline.totesys.schema import apply_totesys_ddl
from reveries_pipeline_tests.ingestion.logical.support import (
    blocked_on_a_lock,
    insert,
    insert_base_rows,
    new_settings,
    spooled,
    update,
)
from reveries_pipeline_tests.waiting import Worker, wait_until

BACKLOG = 5_000


@pytest.fixture
def source(own_server, tmp_path):
    """A fresh database with a snapshot taken and confirmed; yields (server, dsn, settings)."""
    settings, database = new_settings(chunk_rows=500), f"restart_{os.urandom(4).hex()}"
    ensure_database(own_server.get_uri("postgres"), database)
    with psycopg.connect(own_server.get_uri(database), autocommit=True) as conn:
        apply_totesys_ddl(conn)
        insert_base_rows(conn)
        confirm(conn, settings, initial_snapshot(conn, settings, tmp_path / "snapshot").upto_lsn)
    yield own_server, database, settings
    own_server.ensure_postgres_running()
    with psycopg.connect(own_server.get_uri(database), autocommit=True) as conn:
        conn.execute(drop_sql(settings))


def restart(server, crash: bool) -> None:
    if crash:  # SIGQUIT: the postmaster's immediate shutdown, recovering from the WAL on start
        pid = server.get_pid()
        os.kill(pid, signal.SIGQUIT)
        postmaster = server.get_postmaster_info().process
        wait_until(lambda: not postmaster.is_running(), "the postmaster to exit on SIGQUIT", timeout=120)
    else:
        server.stop()  # pg_ctl stop: a fast shutdown, cutting off the sessions
    server.ensure_postgres_running()


def codes(rows, column: str = "currency_code") -> list[tuple[str, str]]:
    return [(r["_op"], r[column]) for r in rows]


def test_a_restart_mid_read_then_the_next_capture_gets_exactly_the_unconfirmed_changes(source, tmp_path):
    server, database, settings = source
    with psycopg.connect(server.get_uri(database), autocommit=True) as conn:
        update(conn, "department", 1, department_name="Confirmed")
        confirm(conn, settings, read_changes(conn, settings, tmp_path / "a").upto_lsn)  # stored and confirmed
        conn.execute("INSERT INTO department (department_name, last_updated) SELECT 'B' || n, now()"
                     " FROM generate_series(1, %s) n", (BACKLOG,))  # fmt: skip
        update(conn, "staff", 1, first_name="Later")
    # The read reads a table's schema when its first change comes: a lock on staff holds it there,
    # the department backlog spooled, the staff change not yet.
    locker = psycopg.connect(server.get_uri(database))
    locker.execute("LOCK TABLE staff IN ACCESS EXCLUSIVE MODE")

    def read() -> None:
        with psycopg.connect(server.get_uri(database), autocommit=True) as reader:
            read_changes(reader, settings, tmp_path / "b")

    reader = Worker(read, name="reader").start()
    with psycopg.connect(server.get_uri(database), autocommit=True) as watcher:
        wait_until(
            lambda: blocked_on_a_lock(watcher, database),
            "the read to block on the lock on staff",
            timeout=120,
            watching=[reader],
        )
    assert (tmp_path / "b" / "department.parquet").exists()  # some of the backlog is spooled
    restart(server, crash=False)
    with pytest.raises(psycopg.OperationalError):  # the read is cut off with its session
        reader.result(timeout=120)
    locker.close()
    with psycopg.connect(server.get_uri(database), autocommit=True) as conn:
        update(conn, "department", 1, department_name="After")
        capture = spooled(read_changes(conn, settings, tmp_path / "c"))
    expected = [("insert", f"B{n}") for n in range(1, BACKLOG + 1)] + [("update", "After")]
    assert codes(capture["department"], "department_name") == expected
    assert codes(capture["staff"], "first_name") == [("update", "Later")]


@pytest.mark.parametrize("crash", [False, True], ids=["restart", "crash"])
def test_a_restart_between_read_and_confirm_replays_the_read(source, tmp_path, crash):
    server, database, settings = source
    with psycopg.connect(server.get_uri(database), autocommit=True) as conn:
        update(conn, "currency", 1, currency_code="EUR")
        confirm(conn, settings, read_changes(conn, settings, tmp_path / "a").upto_lsn)
        key = insert(conn, "currency", currency_code="CHF")
        update(conn, "currency", key, currency_code="SEK")
        unconfirmed = read_changes(conn, settings, tmp_path / "b")  # never confirmed: the run died
    restart(server, crash)
    with psycopg.connect(server.get_uri(database), autocommit=True) as conn:
        update(conn, "currency", 1, currency_code="USD")
        rows = codes(spooled(read_changes(conn, settings, tmp_path / "c"))["currency"])
    expected = codes(spooled(unconfirmed)["currency"]) + [("update", "USD")]
    assert expected == [("insert", "CHF"), ("update", "SEK"), ("update", "USD")]
    if crash:  # a confirm not yet checkpointed may be replayed too: never lost, perhaps read twice
        assert rows in (expected, [("update", "EUR"), *expected])
    else:
        assert rows == expected


def test_a_slot_the_source_invalidated_says_to_resnapshot(source, tmp_path):
    server, database, settings = source
    with psycopg.connect(server.get_uri(database), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
        conn.execute("SELECT pg_reload_conf()")
        try:
            for _ in range(3):  # past the limit: the checkpoint removes the slot's WAL
                update(conn, "currency", 1, currency_code="EUR")
                conn.execute("SELECT pg_switch_wal()")
            conn.execute("CHECKPOINT")
            with pytest.raises(SlotUnavailableError, match=rf"'{settings.slot}' was invalidated.*re-snapshot"):
                read_changes(conn, settings, tmp_path / "a")
        finally:
            conn.execute("ALTER SYSTEM RESET max_slot_wal_keep_size")
            conn.execute("SELECT pg_reload_conf()")
        conn.execute(drop_sql(settings))  # what the message says: drop, then snapshot again
        assert initial_snapshot(conn, settings, tmp_path / "b").tables["currency"].rows == 1
