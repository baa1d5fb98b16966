"""Reading the slot's committed changes into the spool without consuming them.

Exactly once by construction: a read never moves the slot (pg_logical_slot_peek_binary_changes).
The caller stores the spooled batches, then confirms the LSN the read reached (slot.confirm); a crash
in between replays the same changes, which the downstream ledgers absorb.

Memory: a peek always starts at the slot's confirmed position, so paging with upto_nchanges would
decode every earlier page again, and consuming a page before the batches are stored would lose it
on a crash. So one peek, bounded by the WAL flushed when the read begins, is fetched through a
server-side cursor `chunk_rows` rows at a time. The server spills what it holds to disk (decoding past
logical_decoding_work_mem, the result past work_mem); this process holds one fetched chunk and at
most `chunk_rows` buffered rows per table.
"""

from __future__ import annotations

from pathlib import Path

import psycopg

from reveries_pipeline.ingestion.logical.changes import ChangeAssembler
from reveries_pipeline.ingestion.logical.lsn import lsn_text, parse_lsn
from reveries_pipeline.ingestion.logical.pgoutput import PgOutputError, decode_message
from reveries_pipeline.ingestion.logical.session import pin_output_formats, require_idle
from reveries_pipeline.ingestion.logical.settings import LogicalCaptureSettings
from reveries_pipeline.ingestion.logical.slot import (
    invalidated_slot_error,
    missing_slot_error,
    require_publication,
    slot_state,
)
from reveries_pipeline.ingestion.logical.spool import ChangeSpool, SlotRead, spooling
from reveries_pipeline.ingestion.source_schema import describe_source_table

_PEEK = (
    "SELECT data FROM pg_logical_slot_peek_binary_changes("
    "%s, %s::pg_lsn, NULL, 'proto_version', '1', 'publication_names', %s)"
)


def read_changes(
    conn: psycopg.Connection, settings: LogicalCaptureSettings, spool_to: ChangeSpool | Path | str
) -> SlotRead:
    """Spool every change committed since the slot's confirmed position, up to the WAL flushed now,
    into `spool_to` (a directory, or a spool the caller closes; see spool.spooling).

    `upto_lsn` is always at least that flushed position, even when none of the tables changed:
    confirming it moves the slot past the WAL of other tables too (a heartbeat), so a quiet
    publication on a busy database doesn't keep the source's WAL forever."""
    require_idle(conn)
    try:
        with conn.transaction(), spooling(spool_to, settings.chunk_rows) as spool:
            pin_output_formats(conn)
            start = slot_state(conn, settings).confirmed_flush_lsn
            require_publication(conn, settings)
            # flushed, not written: the peek decodes no further than the flushed WAL, and confirming
            # past what it decoded would skip changes unread
            upper = parse_lsn(conn.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()[0])
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            assembler = ChangeAssembler(spool, settings.tables, lambda t: describe_source_table(conn, t), schema)
            _decode(conn, settings, upper, assembler)
    except psycopg.errors.UndefinedObject as e:  # dropped since slot_state read it
        if "replication slot" not in str(e):
            raise
        raise missing_slot_error(settings) from e
    except psycopg.errors.ObjectNotInPrerequisiteState as e:  # invalidated since slot_state read it
        if "can no longer" not in str(e):
            raise
        raise invalidated_slot_error(settings, str(e)) from e
    # The peek returns every commit starting before `upper`, and stops after the record crossing
    # it: a commit it returned may end past `upper`. That end still precedes every commit it didn't
    # return, so confirming the later of the two skips exactly what was read.
    return SlotRead(spool.tables(), start, max(upper, assembler.last_end_lsn), assembler.transactions)


def _decode(conn: psycopg.Connection, settings: LogicalCaptureSettings, upper: int, assembler: ChangeAssembler):
    encoding = conn.info.encoding  # pgoutput converts text to the client encoding
    with conn.cursor(name=f"reveries_cdc_{settings.slot}") as cursor:
        cursor.itersize = settings.chunk_rows
        cursor.execute(_PEEK, (settings.slot, lsn_text(upper), settings.publication))
        for (data,) in cursor:
            assembler.feed(decode_message(data, encoding))
    if assembler.txn is not None:
        raise PgOutputError("the changes ended inside a transaction")
