"""The DBA's scripts, first-use setup, and the errors that must say what to do."""

from __future__ import annotations

import pytest

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.logical import (
    LogicalCaptureSettings,
    PublicationError,
    SlotUnavailableError,
    confirm,
    drop_sql,
    ensure_publication_and_slot,
    initial_snapshot,
    read_changes,
    retained_wal_bytes,
    setup_sql,
    slot_state,
)
from reveries_pipeline_tests.ingestion.logical.support import slot_positions, spooled, update


def replica_identities(conn) -> dict[str, str]:
    return dict(
        conn.execute("SELECT relname, relreplident FROM pg_class WHERE relname = ANY(%s)", (list(SOURCE_TABLE_NAMES),))
    )


def test_setup_sql_names_every_table_and_the_defaults():
    script = setup_sql()
    tables = ", ".join(f'"{t}"' for t in SOURCE_TABLE_NAMES)
    assert f'CREATE PUBLICATION "reveries" FOR TABLE {tables};' in script
    for table in SOURCE_TABLE_NAMES:
        assert f'ALTER TABLE "{table}" REPLICA IDENTITY FULL;' in script
    assert "SELECT pg_create_logical_replication_slot('reveries', 'pgoutput');" in script
    assert "REPLICATION" in script and "wal_level" in script


def run_script(conn, script: str) -> None:
    """As `psql -f` runs it: one statement at a time."""
    for statement in script.split(";\n"):
        if code := "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip():
            conn.execute(code)


def test_the_dba_script_sets_up_what_capture_needs_and_the_drop_script_removes_it(conn, cdc_settings, spool_dirs):
    run_script(conn, setup_sql(cdc_settings))
    assert set(replica_identities(conn).values()) == {"f"}
    assert slot_state(conn, cdc_settings).confirmed_flush_lsn > 0
    update(conn, "currency", 1, currency_code="EUR")
    assert read_changes(conn, cdc_settings, next(spool_dirs)).tables["currency"].rows == 1
    run_script(conn, drop_sql(cdc_settings))
    run_script(conn, drop_sql(cdc_settings))  # and again: nothing left to drop is fine
    assert slot_positions(conn, cdc_settings.slot) is None
    assert conn.execute(
        "SELECT count(*) FROM pg_publication WHERE pubname = %s", (cdc_settings.publication,)
    ).fetchone() == (0,)


def test_ensure_is_idempotent(conn, cdc_settings):
    conn.execute("ALTER TABLE staff REPLICA IDENTITY DEFAULT")
    first = ensure_publication_and_slot(conn, cdc_settings)
    update(conn, "currency", 1, currency_code="EUR")
    assert ensure_publication_and_slot(conn, cdc_settings) == first  # the same slot, not a new one
    assert set(replica_identities(conn).values()) == {"f"}


@pytest.mark.parametrize("name", ["", "Reveries", "with-dash", "x" * 64, "drop table"])
def test_names_are_checked(name):
    with pytest.raises(ValueError, match="must be 1-63"):
        LogicalCaptureSettings(slot=name)
    with pytest.raises(ValueError, match="must be 1-63"):
        LogicalCaptureSettings(publication=name)


def test_a_dropped_slot_says_which_and_to_resnapshot(conn, cdc_settings, spool_dirs):
    ensure_publication_and_slot(conn, cdc_settings)
    conn.execute("SELECT pg_drop_replication_slot(%s)", (cdc_settings.slot,))
    for call in (
        lambda: read_changes(conn, cdc_settings, next(spool_dirs)),
        lambda: confirm(conn, cdc_settings, 1 << 40),
        lambda: retained_wal_bytes(conn, cdc_settings),
    ):
        with pytest.raises(
            SlotUnavailableError, match=rf"replication slot '{cdc_settings.slot}' does not exist.*re-snapshot"
        ):
            call()
    # the re-snapshot the message asks for recreates the slot and reads again
    assert initial_snapshot(conn, cdc_settings, next(spool_dirs)).tables["currency"].rows == 1
    assert read_changes(conn, cdc_settings, next(spool_dirs)).tables == {}


def test_a_slot_of_another_kind_is_refused(conn, cdc_settings, spool_dirs):
    ensure_publication_and_slot(conn, cdc_settings)
    conn.execute("SELECT pg_drop_replication_slot(%s)", (cdc_settings.slot,))
    conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (cdc_settings.slot,))
    with pytest.raises(SlotUnavailableError, match="not a pgoutput slot"):
        read_changes(conn, cdc_settings, next(spool_dirs))


def test_a_dropped_publication_is_an_error_not_silence(conn, cdc_settings, spool_dirs):
    """PostgreSQL 18 skips a missing publication with a warning and decodes nothing at all."""
    ensure_publication_and_slot(conn, cdc_settings)
    update(conn, "currency", 1, currency_code="EUR")
    conn.execute(f"DROP PUBLICATION {cdc_settings.publication}")
    with pytest.raises(PublicationError, match=f"publication '{cdc_settings.publication}' does not exist"):
        read_changes(conn, cdc_settings, next(spool_dirs))


def test_a_publication_missing_tables_or_operations_is_refused(conn, cdc_settings, spool_dirs):
    ensure_publication_and_slot(conn, cdc_settings)
    conn.execute(f"ALTER PUBLICATION {cdc_settings.publication} DROP TABLE payment")
    with pytest.raises(PublicationError, match=r"lacks \['payment'\]"):
        read_changes(conn, cdc_settings, next(spool_dirs))
    conn.execute(f"ALTER PUBLICATION {cdc_settings.publication} ADD TABLE payment WHERE (paid)")
    with pytest.raises(PublicationError, match=r"lacks \['payment'\] \(or publishes only some of their rows"):
        read_changes(conn, cdc_settings, next(spool_dirs))
    conn.execute(f"ALTER PUBLICATION {cdc_settings.publication} SET TABLE {', '.join(SOURCE_TABLE_NAMES[:-1])}")
    conn.execute(f"ALTER PUBLICATION {cdc_settings.publication} ADD TABLE payment (payment_id, paid)")
    with pytest.raises(PublicationError, match=r"lacks \['payment'\]"):
        read_changes(conn, cdc_settings, next(spool_dirs))
    conn.execute(f"ALTER PUBLICATION {cdc_settings.publication} DROP TABLE payment")
    conn.execute(f"ALTER PUBLICATION {cdc_settings.publication} ADD TABLE payment")
    conn.execute(f"ALTER PUBLICATION {cdc_settings.publication} SET (publish = 'insert, update')")
    with pytest.raises(PublicationError, match="must publish insert, update, delete and truncate"):
        read_changes(conn, cdc_settings, next(spool_dirs))


def test_retained_wal_grows_with_the_wal_the_slot_holds(conn, cdc_settings, spool_dirs):
    ensure_publication_and_slot(conn, cdc_settings)
    before = retained_wal_bytes(conn, cdc_settings)
    conn.execute("CREATE TABLE noise AS SELECT repeat('x', 200) AS payload FROM generate_series(1, 20000)")
    assert retained_wal_bytes(conn, cdc_settings) > before + 4_000_000  # 20000 rows of 200 bytes, and more


def test_a_publication_for_all_tables_will_do(conn, cdc_settings, spool_dirs):
    conn.execute(f"CREATE PUBLICATION {cdc_settings.publication} FOR ALL TABLES")
    ensure_publication_and_slot(conn, cdc_settings)  # keeps the DBA's publication
    conn.execute("CREATE TABLE other (id int PRIMARY KEY)")
    conn.execute("INSERT INTO other VALUES (1)")  # published too, but not ours: left out
    conn.execute("CREATE SCHEMA elsewhere")
    conn.execute("CREATE TABLE elsewhere.currency (currency_id int PRIMARY KEY, currency_code text)")
    conn.execute("INSERT INTO elsewhere.currency VALUES (5, 'NOT')")  # a namesake in another schema: not ours
    update(conn, "currency", 1, currency_code="EUR")
    capture = read_changes(conn, cdc_settings, next(spool_dirs))
    assert set(capture.tables) == {"currency"}
    assert [r["currency_code"] for r in spooled(capture)["currency"]] == ["EUR"]
