"""The initial snapshot: every row of the captured tables, read once the slot exists.

No gap: the slot decodes every transaction that commits after its confirmed position, and the
snapshot, one REPEATABLE READ transaction begun after the slot's position was read, sees every
transaction committed before it began. A change committed in between is in both, read twice and
absorbed downstream; none is in neither. Snapshot rows are op 'snapshot' (an upsert), stamped with
that position, which every change to come commits at or after. The same holds for a slot that
already exists, so re-snapshotting (after a lost slot) is the same call.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.string import TextLoader

from reveries_pipeline.ingestion.logical.columns import Op, parse_values, text_parser
from reveries_pipeline.ingestion.logical.session import pin_output_formats
from reveries_pipeline.ingestion.logical.settings import LogicalCaptureSettings
from reveries_pipeline.ingestion.logical.setup import ensure_publication_and_slot
from reveries_pipeline.ingestion.logical.spool import ChangeSpool, SlotRead, spooling
from reveries_pipeline.ingestion.source_schema import SourceTable, describe_source_table


def initial_snapshot(
    conn: psycopg.Connection,
    settings: LogicalCaptureSettings,
    spool_to: ChangeSpool | Path | str,
    tables: Collection[str] | None = None,
) -> SlotRead:
    """Create the publication and slot if missing, then spool every row of `tables` (default: every
    captured table), consistent across tables, into `spool_to` (see spool.spooling). Store the batches
    before confirming; `upto_lsn` is the slot's position, where the change reads carry on from."""
    lsn = ensure_publication_and_slot(conn, settings).confirmed_flush_lsn
    with conn.transaction(), spooling(spool_to, settings.chunk_rows) as spool:
        # one snapshot for every table, so the rows agree with each other (foreign keys hold)
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        pin_output_formats(conn)
        (time_us,) = conn.execute("SELECT (extract(epoch FROM transaction_timestamp()) * 1000000)::int8").fetchone()
        for name in settings.tables if tables is None else tables:
            _spool_table(conn, describe_source_table(conn, name), spool, lsn, time_us, settings.chunk_rows)
    return SlotRead(spool.tables(), start_lsn=lsn, upto_lsn=lsn)


def _spool_table(
    conn: psycopg.Connection, table: SourceTable, spool: ChangeSpool, lsn: int, time_us: int, chunk_rows: int
) -> None:
    query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in table.columns),
        sql.Identifier(table.name),
        sql.Identifier(table.primary_key),
    )
    parsers = [text_parser(c.arrow_type) for c in table.source_columns]
    with conn.cursor(name=f"reveries_snapshot_{table.name}") as cursor:
        # the text the output functions wrote, as pgoutput sends it: one parser for both
        for column in conn.execute(sql.SQL("{} LIMIT 0").format(query)).description:
            cursor.adapters.register_loader(column.type_code, TextLoader)
        cursor.itersize = chunk_rows
        cursor.execute(query)
        for seq, row in enumerate(cursor):
            values, unrepresentable = parse_values(table.columns, parsers, row)
            spool.add(table, values, Op.SNAPSHOT, lsn, time_us, seq, unrepresentable)
