"""The merge rules: how a table's new rows join what the warehouse already holds.

Dimensions are upserted: the last row per key wins, and unchanged rows are left alone. Facts are
appended, one row per version (natural id, last-updated date, last-updated time), in the frame's row
order (new SERIAL record ids); a version already in the table, or seen twice, goes in once. Deletion
markers are appended the same way, one per (star table, natural id, version). The same rules hold
for the initial load, which copies straight into the empty table.

Both take only locks readers don't conflict with (INSERT: ROW EXCLUSIVE; foreign keys checked by
their row triggers), unless a large fact load takes the bulk path (see foreign_keys.py).

Into a table that holds rows, the new rows are first copied into a temporary staging table (the
table's columns minus a fact's record id, plus their position SEQ) and merged from there; into an
empty table they are copied directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import polars as pl
import psycopg
from psycopg import sql

from reveries_pipeline.warehouse import copy_in, foreign_keys
from reveries_pipeline.warehouse.batch_rows import BatchRows, FrameBatch, rows_of
from reveries_pipeline.warehouse.copy_in import SEQ
from reveries_pipeline.warehouse.foreign_keys import Inserted
from reveries_pipeline.warehouse.schema import APPEND_ONLY_KEY, DIMENSION_KEY, RECORD_ID

_MERGE_SETTINGS = {"work_mem": "256MB", "jit": "off"}
_staging_ids = itertools.count()


def merge_into_table(
    conn: psycopg.Connection, table: str, batches: Sequence[BatchRows], columns: list[str], lock_timeout_s: float
) -> Inserted:
    """Stage the batches' rows and merge them into `table` (which holds rows); the rows inserted or updated."""
    staged = _create_staging_table(conn, table)
    staged_rows = copy_in.copy_rows(conn, staged, rows_of(batches, columns), columns)
    inserted = _merge_staged(conn, table, staged, columns, staged_rows, lock_timeout_s)
    conn.execute(sql.SQL("DROP TABLE {}").format(staged))
    return inserted


def _create_staging_table(conn: psycopg.Connection, table: str) -> sql.Identifier:
    """A temporary table shaped like `table`'s processed frames plus SEQ, dropped at commit at the latest."""
    staged = sql.Identifier(f"_stage_{table}_{next(_staging_ids)}")
    conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staged, sql.Identifier(table)))
    alters = [sql.SQL("ADD COLUMN {} BIGINT NOT NULL").format(sql.Identifier(SEQ))]
    if table in RECORD_ID:
        alters.insert(0, sql.SQL("DROP COLUMN {}").format(sql.Identifier(RECORD_ID[table])))
    conn.execute(sql.SQL("ALTER TABLE {} {}").format(staged, sql.SQL(", ").join(alters)))
    return staged


def _merge_staged(
    conn: psycopg.Connection,
    table: str,
    staged: sql.Identifier,
    columns: list[str],
    staged_rows: int,
    lock_timeout_s: float,
) -> Inserted:
    """Merge the staging table into `table`; the number of rows inserted or updated."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("ANALYZE {}").format(staged))
        saved = {}
        for name, value in _MERGE_SETTINGS.items():
            (saved[name],) = cur.execute("SELECT current_setting(%s)", (name,)).fetchone()
            cur.execute("SELECT set_config(%s, %s, true)", (name, value))

        def run(statement: sql.Composed) -> int:
            cur.execute(statement)
            return max(cur.rowcount, 0)

        if table not in APPEND_ONLY_KEY:
            loaded = Inserted(run(_dimension_upsert(table, staged, columns)))
        elif foreign_keys.bulk_path_pays_off(conn, table, staged_rows, into_empty_table=False):
            insert = _append_insert(table, staged, columns)
            loaded = foreign_keys.insert_with_foreign_keys_dropped(conn, table, lambda: run(insert), lock_timeout_s)
        else:
            loaded = Inserted(run(_append_insert(table, staged, columns)))
        for name, value in saved.items():
            cur.execute("SELECT set_config(%s, %s, true)", (name, value))
        return loaded


def copy_into_empty_table(
    conn: psycopg.Connection,
    table: str,
    batches: Sequence[BatchRows],
    columns: list[str],
    lock_timeout_s: float,
) -> Inserted:
    """The initial load: nothing to merge with, so COPY straight into the table (no staging pass).

    The merge rules are applied first: a fact version goes in once (first seen), a dimension key once
    (last seen wins), a marker once; foreign keys are checked by their triggers, or when re-added.
    Without a repeated key, which is the rule, the rows stream from the batches a row group at a time.
    """
    key = list(APPEND_ONLY_KEY[table]) if table in APPEND_ONLY_KEY else [DIMENSION_KEY[table]]
    if _may_repeat_a_key(pl.concat(list(rows_of(batches, key)), how="vertical_relaxed")):
        keep = "first" if table in APPEND_ONLY_KEY else "last"
        once = pl.concat(list(rows_of(batches, columns)), how="vertical_relaxed").unique(
            subset=key, keep=keep, maintain_order=True
        )
        batches = [FrameBatch("", once)]

    def copy() -> int:  # may run twice: the bulk path falls back to the triggers if locks aren't granted
        return copy_in.copy_rows(conn, sql.Identifier(table), rows_of(batches, columns), columns, with_position=False)

    rows = sum(batch.height for batch in batches)
    if foreign_keys.bulk_path_pays_off(conn, table, rows, into_empty_table=True):
        return foreign_keys.insert_with_foreign_keys_dropped(conn, table, copy, lock_timeout_s)
    return Inserted(copy())


def _may_repeat_a_key(keys: pl.DataFrame) -> bool:
    """Whether two rows may share a key: one 64-bit hash per row, sorted in place (8 bytes a row; a
    hash table of the key columns costs ~15 times that). A hash collision only means `unique` runs."""
    hashes = keys.select(pl.struct(keys.columns).hash()).to_series().to_numpy(writable=True)
    hashes.sort()
    return bool((hashes[1:] == hashes[:-1]).any())


def _append_insert(table: str, staged: sql.Identifier, columns: list[str]) -> sql.Composed:
    """Append staged rows in staging order; a version (or marker) already in the table, or staged
    twice, goes in once."""
    version = [sql.Identifier(c) for c in APPEND_ONLY_KEY[table]]
    return sql.SQL(
        """
        INSERT INTO {target} ({cols})
        SELECT {cols} FROM (
            SELECT DISTINCT ON ({version}) * FROM {staging} ORDER BY {version}, {seq}
        ) AS s
        WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {match})
        ORDER BY s.{seq}
        """
    ).format(
        target=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        version=sql.SQL(", ").join(version),
        staging=staged,
        seq=sql.Identifier(SEQ),
        match=sql.SQL(" AND ").join(sql.SQL("t.{0} = s.{0}").format(v) for v in version),
    )


def _dimension_upsert(table: str, staged: sql.Identifier, columns: list[str]) -> sql.Composed:
    """Upsert the last staged row per key; unchanged rows are left alone (and not counted)."""
    target = sql.Identifier(table)
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    key = sql.Identifier(DIMENSION_KEY[table])
    others = [sql.Identifier(c) for c in columns if c != DIMENSION_KEY[table]]
    # Several rows for one key in these batches: the last one wins (and ON CONFLICT sees one row).
    latest = sql.SQL("SELECT DISTINCT ON ({key}) {cols} FROM {staging} ORDER BY {key}, {seq} DESC").format(
        key=key, cols=cols, staging=staged, seq=sql.Identifier(SEQ)
    )
    if table == "dim_date" or not others:
        conflict = sql.SQL("DO NOTHING")
    else:
        conflict = sql.SQL("DO UPDATE SET {sets} WHERE ({current}) IS DISTINCT FROM ({incoming})").format(
            sets=sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(c) for c in others),
            current=sql.SQL(", ").join(sql.SQL("{}.{}").format(target, c) for c in others),
            incoming=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(c) for c in others),
        )
    return sql.SQL("INSERT INTO {target} ({cols}) {latest} ON CONFLICT ({key}) {conflict}").format(
        target=target, cols=cols, latest=latest, key=key, conflict=conflict
    )
