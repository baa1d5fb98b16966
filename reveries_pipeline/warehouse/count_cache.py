"""Exact row counts that cost what changed, not the history: taken in the load transaction, kept in
`reveries_row_count` with the change numbers of the tables they read (`reveries_table_changes`, bumped
by a statement trigger on every write, ddl.sql), and reused while those numbers still hold.

Two counts per table: its rows (dagster/row_count) and, for a reconciled table, its live rows (what
`reconciles_with_source` compares with the source). A count whose tables did not change is read
back; a fact's rows after a load are the kept count plus the versions above the load's starting
record id (the loader only appends to a fact); a fact's live rows (its _current table) are the kept
count plus the load's change of the pre-aggregate's row_count, which the loader keeps by the same
difference in the same transaction; anything else is counted again.
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
    # A SELECT of a summary the load keeps in its transaction, whose change over the load is the count's.
    tracker: sql.Composable | None = None


@dataclass(frozen=True)
class LoadStart:
    """What the counts are taken against, read under the writer lock before the load writes."""

    changes: dict[str, int]  # each counted table's change number
    trackers: dict[str, int]  # each tracked measure's tracker


def table_rows(table: str) -> Measure:
    return Measure(f"rows:{table}", sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)), (table,))


def load_start(conn: psycopg.Connection, measures: list[Measure]) -> LoadStart:
    """The change number of every counted table, locked until the caller's transaction ends (a hand
    edit of a counted table waits for the load's commit, so the counts taken before it stay true),
    and each tracker's value."""
    rows = conn.execute(
        sql.SQL("SELECT table_name, changes FROM {} FOR UPDATE").format(sql.Identifier(CHANGES_TABLE))
    ).fetchall()
    trackers = {m.name: _value(conn, m.tracker) for m in measures if m.tracker is not None}
    return LoadStart(dict(rows), trackers)


def _value(conn: psycopg.Connection, query: sql.Composable) -> int:
    return int(conn.execute(query).fetchone()[0])


def exact_counts(
    conn: psycopg.Connection, measures: list[Measure], start: LoadStart, since_record_ids: Mapping[str, int]
) -> dict[str, int]:
    """Each measure's exact count now, read back, added to, or counted again; kept for the next load.

    `start` is load_start's, `since_record_ids` each fact's highest record id at the load's start."""
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
            kept_at_start = count is not None and kept_stamp == _stamp(start.changes, measure.reads)
            count = _recount(conn, measure, count if kept_at_start else None, start, since_record_ids)
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
    conn: psycopg.Connection, measure: Measure, kept: int | None, start: LoadStart, since: Mapping[str, int]
) -> int:
    """The count `kept` when the load began (None: not true then) plus what the load changed, read from
    the measure's tracker or, for a fact's rows, from what it appended (an index range); else a count."""
    (table,) = measure.reads if len(measure.reads) == 1 else (None,)
    if kept is not None and measure.tracker is not None:
        return kept + _value(conn, measure.tracker) - start.trackers[measure.name]
    if kept is not None and measure.name == f"rows:{table}" and table in RECORD_ID:
        appended = sql.SQL("SELECT count(*) FROM {} WHERE {} > %s").format(
            sql.Identifier(table), sql.Identifier(RECORD_ID[table])
        )
        return kept + conn.execute(appended, (since[table],)).fetchone()[0]
    return conn.execute(measure.query).fetchone()[0]
