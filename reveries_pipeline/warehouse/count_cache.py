"""Exact row counts that cost what changed, not the history: taken in the load transaction, kept in
`reveries_row_count` with the change numbers of the tables they read (`reveries_table_changes`, bumped
by a statement trigger on every write, ddl.sql), and reused while those numbers still hold.

Two counts per table: its rows (dagster/row_count) and, for a reconciled table, its live rows (what
`reconciles_with_source` compares with the source). A count whose tables did not change is read
back; a fact's rows after a load are the kept count plus the versions above the load's starting
record id (the loader only appends to a fact); anything else is counted again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql

from reveries_pipeline.warehouse.schema import RECORD_ID

CHANGES_TABLE = "reveries_table_changes"
COUNTS_TABLE = "reveries_row_count"


@dataclass(frozen=True)
class Measure:
    name: str  # the key in reveries_row_count
    query: sql.Composable  # SELECT of one exact count
    reads: tuple[str, ...]  # the tables whose change numbers stamp the count


def table_rows(table: str) -> Measure:
    return Measure(f"rows:{table}", sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)), (table,))


def lock_change_numbers(conn: psycopg.Connection) -> dict[str, int]:
    """The change number of every counted table, locked until the caller's transaction ends: a hand
    edit of a counted table waits for the load's commit, so the counts taken before it stay true."""
    rows = conn.execute(
        sql.SQL("SELECT table_name, changes FROM {} FOR UPDATE").format(sql.Identifier(CHANGES_TABLE))
    ).fetchall()
    return dict(rows)


def exact_counts(
    conn: psycopg.Connection, measures: list[Measure], before: Mapping[str, int], since_record_ids: Mapping[str, int]
) -> dict[str, int]:
    """Each measure's exact count now, read back, added to, or counted again; kept for the next load.

    `before` holds the change numbers locked at the start of the load, `since_record_ids` each fact's
    highest record id then."""
    now = dict(conn.execute(sql.SQL("SELECT table_name, changes FROM {}").format(sql.Identifier(CHANGES_TABLE))))
    kept = {
        name: (count, stamp)
        for name, count, stamp in conn.execute(
            sql.SQL("SELECT measure, row_count, stamp FROM {}").format(sql.Identifier(COUNTS_TABLE))
        )
    }
    counts = {}
    for measure in measures:
        stamp = _stamp(now, measure.reads)
        count, kept_stamp = kept.get(measure.name, (None, None))
        if kept_stamp != stamp:
            count = _recount(conn, measure, kept_stamp == _stamp(before, measure.reads), count, since_record_ids)
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (measure, row_count, stamp) VALUES (%s, %s, %s) ON CONFLICT (measure) "
                    "DO UPDATE SET row_count = EXCLUDED.row_count, stamp = EXCLUDED.stamp"
                ).format(sql.Identifier(COUNTS_TABLE)),
                (measure.name, count, stamp),
            )
        counts[measure.name] = count
    return counts


def _stamp(changes: Mapping[str, int], tables: tuple[str, ...]) -> str:
    return ",".join(f"{table}={changes.get(table, '?')}" for table in tables)


def _recount(
    conn: psycopg.Connection, measure: Measure, kept_at_start: bool, kept: int | None, since: Mapping[str, int]
) -> int:
    """A fact's rows kept when the load began, plus what it appended (an index range); else a count."""
    (table,) = measure.reads if len(measure.reads) == 1 else (None,)
    if kept_at_start and kept is not None and measure.name == f"rows:{table}" and table in RECORD_ID:
        appended = sql.SQL("SELECT count(*) FROM {} WHERE {} > %s").format(
            sql.Identifier(table), sql.Identifier(RECORD_ID[table])
        )
        return kept + conn.execute(appended, (since[table],)).fetchone()[0]
    return conn.execute(measure.query).fetchone()[0]
