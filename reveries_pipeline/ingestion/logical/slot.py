"""The replication slot and publication: their health, the WAL the slot holds, and confirming."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from reveries_pipeline.ingestion.logical.lsn import lsn_text, parse_lsn
from reveries_pipeline.ingestion.logical.session import require_idle
from reveries_pipeline.ingestion.logical.settings import LogicalCaptureSettings

_RESNAPSHOT = (
    "The changes it held since the last capture can't be read any more: re-snapshot every table. Drop what"
    " is left of the slot and forget every table's position, then run the pipeline: the next ingestion run"
    " creates the slot again and snapshots every table, and downstream absorbs the rows it already has:\n"
    "  reveries totesys drop-cdc --apply --yes && reveries resnapshot --all && reveries run"
)


class SlotUnavailableError(RuntimeError):
    """The slot is gone or unusable: only a new initial snapshot recovers the changes it held."""


class PublicationError(RuntimeError):
    """The publication is missing or doesn't publish every change of every captured table."""


@dataclass(frozen=True)
class SlotState:
    confirmed_flush_lsn: int
    restart_lsn: int


def missing_slot_error(settings: LogicalCaptureSettings) -> SlotUnavailableError:
    return SlotUnavailableError(
        f"replication slot {settings.slot!r} does not exist on the source (dropped, or never created). {_RESNAPSHOT}"
    )


def invalidated_slot_error(settings: LogicalCaptureSettings, reason: str) -> SlotUnavailableError:
    return SlotUnavailableError(
        f"replication slot {settings.slot!r} was invalidated by the source ({reason}), e.g. for holding more"
        f" than max_slot_wal_keep_size or idling past idle_replication_slot_timeout. {_RESNAPSHOT}"
    )


def slot_state(conn: psycopg.Connection, settings: LogicalCaptureSettings) -> SlotState:
    """The slot's positions; a clear SlotUnavailableError if it can't be read from."""
    # to_jsonb: the columns telling an invalidated slot differ across versions (wal_status 13+,
    # invalidation_reason 17+), and RDS may run any of them
    row = conn.execute(
        "SELECT to_jsonb(s), current_database() FROM pg_replication_slots s WHERE slot_name = %s", (settings.slot,)
    ).fetchone()
    if row is None:
        raise missing_slot_error(settings)
    slot, database = row
    reason = slot.get("invalidation_reason") or ("WAL lost" if slot.get("wal_status") == "lost" else None)
    if reason or slot.get("restart_lsn") is None:
        raise invalidated_slot_error(settings, reason or "no restart LSN")
    if slot["slot_type"] != "logical" or slot["plugin"] != "pgoutput" or slot["database"] != database:
        raise SlotUnavailableError(
            f"replication slot {settings.slot!r} is not a pgoutput slot of database {database!r}"
            f" ({slot['slot_type']}, {slot['plugin']}, {slot['database']}): name another slot in the settings"
        )
    return SlotState(parse_lsn(slot["confirmed_flush_lsn"]), parse_lsn(slot["restart_lsn"]))


def require_publication(conn: psycopg.Connection, settings: LogicalCaptureSettings) -> None:
    """PostgreSQL 16+ skips a missing publication with a mere warning and decodes nothing: without
    this check, a dropped publication would confirm every change away unread. Reads the catalogs
    only (pg_publication_tables would lock every table, waiting behind any DDL)."""
    row = conn.execute(
        "SELECT oid, puballtables, pubinsert AND pubupdate AND pubdelete AND pubtruncate"
        " FROM pg_publication WHERE pubname = %s",
        (settings.publication,),
    ).fetchone()
    if row is None:
        raise PublicationError(f"publication {settings.publication!r} does not exist: run the CDC setup")
    oid, all_tables, every_operation = row
    if not every_operation:
        raise PublicationError(
            f"publication {settings.publication!r} must publish insert, update, delete and truncate: recreate it"
        )
    if all_tables:
        return
    # to_jsonb: row filters and column lists (15+) are columns older servers lack
    published = conn.execute(
        "SELECT c.relname, to_jsonb(r) FROM pg_publication_rel r JOIN pg_class c ON c.oid = r.prrelid"
        " WHERE r.prpubid = %s AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
        (oid,),
    ).fetchall()
    whole = {name for name, rel in published if rel.get("prqual") is None and rel.get("prattrs") is None}
    if missing := [t for t in settings.tables if t not in whole]:
        raise PublicationError(
            f"publication {settings.publication!r} lacks {missing} (or publishes only some of their rows or"
            " columns): publish them whole (ALTER PUBLICATION ... SET TABLE) and re-snapshot, since changes"
            " so far were not all captured"
        )


def retained_wal_bytes(conn: psycopg.Connection, settings: LogicalCaptureSettings) -> int:
    """Bytes of WAL the slot keeps on the source's disk (current WAL position - restart_lsn)."""
    with conn.transaction():
        state = slot_state(conn, settings)
        (retained,) = conn.execute(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (lsn_text(state.restart_lsn),)
        ).fetchone()
    return int(retained)  # numeric, exact


def confirm(conn: psycopg.Connection, settings: LogicalCaptureSettings, lsn: int) -> int:
    """Tell the slot every change up to `lsn` is stored, so it frees that WAL and never replays them.

    Call it only once the batches of the capture that returned `lsn` are durably stored. Confirming
    again, or an older LSN, changes nothing. Returns the slot's confirmed position."""
    require_idle(conn)
    with conn.transaction():
        state = slot_state(conn, settings)
        if lsn <= state.confirmed_flush_lsn:
            return state.confirmed_flush_lsn
        try:
            (moved,) = conn.execute(
                "SELECT end_lsn::text FROM pg_replication_slot_advance(%s, %s::pg_lsn)", (settings.slot, lsn_text(lsn))
            ).fetchone()
        except psycopg.errors.UndefinedObject as e:  # dropped since slot_state read it
            raise missing_slot_error(settings) from e
    return parse_lsn(moved)
