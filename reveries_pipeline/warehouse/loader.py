"""Loads processed star-schema batches into the PostgreSQL warehouse, each batch exactly once.

A batch is COPY'd (CSV, streamed from polars) into a temporary staging table and merged from there:
dimensions are upserted (latest values win), facts are appended (new SERIAL record ids, in the
frame's row order) unless that version - (natural id, last-updated date, last-updated time) - is
already in the fact table. The batch's ledger row is written in the same transaction as its rows,
so a crash leaves both unchanged and a replayed batch key is a no-op.

Locks (see locks.py). Every load first takes the warehouse's writer lock (one advisory lock, so
concurrent loaders queue instead of deadlocking, and the second sees the first's ledger). The
ordinary path takes only locks readers don't conflict with: COPY into a temporary staging table,
INSERT / upsert (ROW EXCLUSIVE), foreign keys checked by their row triggers.

Large fact loads (BULK_FK_MIN_ROWS+ rows, also into an empty table) would rather drop the fact's
foreign keys, insert, and re-add the very same constraints (checked by one anti-join per key) in the
same transaction: per-row FK triggers would otherwise dominate. Dropping them needs ACCESS EXCLUSIVE
locks on the fact and its dimensions until commit, which an open reader holds off. So that path runs
in a savepoint under lock_timeout, and if the locks aren't granted in time it rolls back to the
savepoint and inserts with the constraints in place; LoadResult.notes says why and who was in the way.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import polars as pl
import psycopg
from psycopg import sql

from reveries_pipeline.warehouse.locks import (
    DEFAULT_LOCK_TIMEOUT_S,
    blocking_sessions,
    describe,
    lock_warehouse,
    strong_lock_section,
)
from reveries_pipeline.warehouse.schema import (
    DIMENSION_KEY,
    FACT_VERSION_KEY,
    LEDGER_TABLE,
    RECORD_ID,
    WAREHOUSE_TABLES,
)

log = logging.getLogger(__name__)

_SEQ = "_reveries_seq"  # staging-only column: the row's position in the concatenated batches
_COPY_CHUNK = 8 * 1024 * 1024
_staging_ids = itertools.count()


@dataclass
class LoadResult:
    table: str
    batches_applied: list[str] = field(default_factory=list)  # batch keys applied now
    batches_skipped: list[str] = field(default_factory=list)  # already in the ledger (replays): no-op
    rows_loaded: int = 0  # rows inserted or updated
    notes: list[str] = field(default_factory=list)  # why a faster path was not taken, for the run's log


def _check_table(table: str) -> None:
    if table not in WAREHOUSE_TABLES:
        raise ValueError(f"unknown warehouse table {table!r}; expected one of {WAREHOUSE_TABLES}")


def _table_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """The columns a processed frame of `table` carries: the table's columns minus a fact's record id."""
    rows = conn.execute(
        """
        SELECT a.attname FROM pg_attribute a
        WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (sql.Identifier(table).as_string(conn),),
    ).fetchall()
    if not rows:
        raise LookupError(f"warehouse table {table!r} does not exist; run apply_warehouse_ddl first")
    record_id = RECORD_ID.get(table)
    return [name for (name,) in rows if name != record_id]


def _applied_keys(conn: psycopg.Connection, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    rows = conn.execute(
        sql.SQL("SELECT batch_key FROM {} WHERE batch_key = ANY(%s)").format(sql.Identifier(LEDGER_TABLE)),
        (keys,),
    ).fetchall()
    return {key for (key,) in rows}


def pending_batch_keys(conn: psycopg.Connection, table: str, candidate_keys: list[str]) -> list[str]:
    """The candidate keys not yet in the load ledger, in their given order (duplicates dropped)."""
    _check_table(table)
    applied = _applied_keys(conn, list(dict.fromkeys(candidate_keys)))
    return [key for key in dict.fromkeys(candidate_keys) if key not in applied]


def _conform(frame: pl.DataFrame, columns: list[str], table: str, batch_key: str) -> pl.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in columns]
    if missing or extra:
        raise ValueError(
            f"batch {batch_key!r} does not match {table}: missing columns {missing}, unexpected columns {extra}"
        )
    return frame.select(columns)


def _create_staging(conn: psycopg.Connection, table: str) -> sql.Identifier:
    staging = sql.Identifier(f"_stage_{table}_{next(_staging_ids)}")
    conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staging, sql.Identifier(table)))
    alters = [sql.SQL("ADD COLUMN {} BIGINT NOT NULL").format(sql.Identifier(_SEQ))]
    if table in RECORD_ID:
        alters.insert(0, sql.SQL("DROP COLUMN {}").format(sql.Identifier(RECORD_ID[table])))
    conn.execute(sql.SQL("ALTER TABLE {} {}").format(staging, sql.SQL(", ").join(alters)))
    return staging


def _copy_into(
    conn: psycopg.Connection,
    staging: sql.Identifier,
    frame: pl.DataFrame,
    columns: list[str],
    with_position: bool = True,
) -> None:
    """COPY the frame (plus its row position) into staging as CSV.

    polars writes a null as an unquoted empty field and an empty string as "" (quoted); PostgreSQL's
    CSV COPY reads the first as NULL and the second as ''. Decimals are written as exact text and
    times with microseconds.
    """
    copied = [*columns, _SEQ] if with_position else columns
    if with_position:
        frame = frame.with_row_index(_SEQ)
    data = frame.select(copied).write_csv(
        include_header=False,
        quote_style="necessary",
        null_value="",
        date_format="%Y-%m-%d",
        time_format="%H:%M:%S%.6f",
    )
    payload = memoryview(data.encode("utf-8"))
    target = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        staging, sql.SQL(", ").join(map(sql.Identifier, copied))
    )
    with conn.cursor().copy(target) as copy:
        for start in range(0, len(payload), _COPY_CHUNK):
            copy.write(payload[start : start + _COPY_CHUNK])


# Facts: above this many staged rows (and at least a quarter of the table's size) the fact's foreign
# keys are dropped, the rows inserted and the same constraints re-added in the same transaction; the
# re-add checks every row with one anti-join per key instead of one trigger query per row and key.
BULK_FK_MIN_ROWS = 2_000
_MERGE_SETTINGS = {"work_mem": "256MB", "jit": "off"}


def _foreign_keys(conn: psycopg.Connection, table: str) -> list[tuple[str, str, str]]:
    """(name, definition, referenced table) of the table's foreign keys, in a fixed lock order."""
    return conn.execute(
        """
        SELECT c.conname, pg_get_constraintdef(c.oid), r.relname FROM pg_constraint c
        JOIN pg_class r ON r.oid = c.confrelid
        WHERE c.conrelid = to_regclass(%s) AND c.contype = 'f'
        ORDER BY c.confrelid::regclass::text, c.conname
        """,
        (sql.Identifier(table).as_string(conn),),
    ).fetchall()


def _use_bulk_fk_path(conn: psycopg.Connection, table: str, staged_rows: int) -> bool:
    if staged_rows < BULK_FK_MIN_ROWS:
        return False
    (estimate,) = conn.execute(
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(%s)",
        (sql.Identifier(table).as_string(conn),),
    ).fetchone()
    return staged_rows * 4 >= estimate


def _fact_insert(table: str, staging: sql.Identifier, columns: list[str]) -> sql.Composed:
    """Append staged rows in staging order; a version already in the table, or staged twice, goes in once."""
    version = [sql.Identifier(c) for c in FACT_VERSION_KEY[table]]
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
        staging=staging,
        seq=sql.Identifier(_SEQ),
        match=sql.SQL(" AND ").join(sql.SQL("t.{0} = s.{0}").format(v) for v in version),
    )


def _dimension_upsert(table: str, staging: sql.Identifier, columns: list[str]) -> sql.Composed:
    """Upsert the last staged row per key; unchanged rows are left alone (and not counted)."""
    target = sql.Identifier(table)
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    key = sql.Identifier(DIMENSION_KEY[table])
    others = [sql.Identifier(c) for c in columns if c != DIMENSION_KEY[table]]
    # Several rows for one key in these batches: the last one wins (and ON CONFLICT sees one row).
    latest = sql.SQL("SELECT DISTINCT ON ({key}) {cols} FROM {staging} ORDER BY {key}, {seq} DESC").format(
        key=key, cols=cols, staging=staging, seq=sql.Identifier(_SEQ)
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


def _is_empty(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))).fetchone()[0]


def _drop_foreign_keys(conn: psycopg.Connection, table: str, fks: list[tuple[str, str, str]]) -> None:
    conn.execute(
        sql.SQL("ALTER TABLE {} {}").format(
            sql.Identifier(table),
            sql.SQL(", ").join(sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(n)) for n, *_ in fks),
        )
    )


def _restore_foreign_keys(conn: psycopg.Connection, table: str, fks: list[tuple[str, str, str]]) -> None:
    # Definitions come from the server's own catalog (pg_get_constraintdef), not from input. Re-adding
    # checks every row with one anti-join per key instead of one trigger query per row and key.
    conn.execute(
        sql.SQL("ALTER TABLE {} {}").format(
            sql.Identifier(table),
            sql.SQL(", ").join(
                sql.SQL("ADD CONSTRAINT {} {}").format(sql.Identifier(n), sql.SQL(definition))
                for n, definition, _ in fks
            ),
        )
    )


def _insert_with_foreign_keys_dropped(
    conn: psycopg.Connection, table: str, insert: Callable[[], int], lock_timeout_s: float, notes: list[str]
) -> int:
    """Run `insert` with the table's foreign keys dropped and re-added, or with them in place if the
    ACCESS EXCLUSIVE locks that needs (on the table and the tables it references) aren't granted
    within lock_timeout: an open reader then costs this load its speed-up, never a stall."""
    fks = _foreign_keys(conn, table)
    if not fks:
        return insert()
    try:
        with strong_lock_section(conn, lock_timeout_s):
            _drop_foreign_keys(conn, table, fks)
            rows = insert()
            _restore_foreign_keys(conn, table, fks)
            return rows
    except psycopg.errors.LockNotAvailable:
        # Rolled back to the savepoint: the constraints are back, the blockers still hold their locks.
        blockers = blocking_sessions(conn, [table, *sorted({ref for *_, ref in fks})])
        note = (
            f"{table}: inserted with its foreign keys in place (row-by-row checks, slower) because dropping "
            f"them waited {lock_timeout_s:g}s (lock_timeout) for locks held by: {describe(blockers)}"
        )
        log.warning(note)
        notes.append(note)
    return insert()


def _load_into_empty_table(
    conn: psycopg.Connection,
    table: str,
    frame: pl.DataFrame,
    columns: list[str],
    lock_timeout_s: float,
    notes: list[str],
) -> int:
    """The initial load: nothing to merge with, so COPY straight into the table (no staging pass).

    The same rules as the merge hold: a fact version goes in once (first seen), a dimension key
    once (last seen wins), and foreign keys are checked (by their triggers, or when re-added).
    """
    if table in FACT_VERSION_KEY:
        frame = frame.unique(subset=list(FACT_VERSION_KEY[table]), keep="first", maintain_order=True)
    else:
        frame = frame.unique(subset=[DIMENSION_KEY[table]], keep="last", maintain_order=True)

    def copy() -> int:
        _copy_into(conn, sql.Identifier(table), frame, columns, with_position=False)
        return frame.height

    if frame.height >= BULK_FK_MIN_ROWS:
        return _insert_with_foreign_keys_dropped(conn, table, copy, lock_timeout_s, notes)
    return copy()


def _merge(
    conn: psycopg.Connection,
    table: str,
    staging: sql.Identifier,
    columns: list[str],
    staged_rows: int,
    lock_timeout_s: float,
    notes: list[str],
) -> int:
    """Merge staging into the target table; return the number of rows inserted or updated."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("ANALYZE {}").format(staging))
        saved = {}
        for name, value in _MERGE_SETTINGS.items():
            (saved[name],) = cur.execute("SELECT current_setting(%s)", (name,)).fetchone()
            cur.execute("SELECT set_config(%s, %s, true)", (name, value))

        def run(statement: sql.Composed) -> int:
            cur.execute(statement)
            return max(cur.rowcount, 0)

        if table not in FACT_VERSION_KEY:
            loaded = run(_dimension_upsert(table, staging, columns))
        elif _use_bulk_fk_path(conn, table, staged_rows):
            insert = _fact_insert(table, staging, columns)
            loaded = _insert_with_foreign_keys_dropped(conn, table, lambda: run(insert), lock_timeout_s, notes)
        else:
            loaded = run(_fact_insert(table, staging, columns))
        for name, value in saved.items():
            cur.execute("SELECT set_config(%s, %s, true)", (name, value))
        return loaded


def _write_rows(
    conn: psycopg.Connection,
    table: str,
    frames: list[pl.DataFrame],
    columns: list[str],
    result: LoadResult,
    timeout: float,
) -> int:
    """COPY the frames straight into an empty table, or into staging and merge; the rows written."""
    combined = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")
    if _is_empty(conn, table):
        return _load_into_empty_table(conn, table, combined, columns, timeout, result.notes)
    staging = _create_staging(conn, table)
    _copy_into(conn, staging, combined, columns)
    loaded = _merge(conn, table, staging, columns, combined.height, timeout, result.notes)
    conn.execute(sql.SQL("DROP TABLE {}").format(staging))
    return loaded


def load_table_batches(
    conn: psycopg.Connection,
    table: str,
    batches: Iterable[tuple[str, pl.DataFrame]],
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
) -> LoadResult:
    """Apply the not-yet-applied batches of one table with one COPY and one merge, plus their ledger rows.

    Runs inside the caller's transaction (as a savepoint; as its own transaction on an autocommit
    connection) and does not commit it. Takes the warehouse's writer lock (waiting for any other
    writer) before reading the ledger. Batches already in the ledger, or repeated within `batches`,
    are skipped. `lock_timeout_s` bounds the wait of the optional foreign-key bulk path (see above).
    """
    _check_table(table)
    batches = list(batches)
    result = LoadResult(table=table)
    if not batches:
        return result
    with conn.transaction():
        lock_warehouse(conn)
        applied = _applied_keys(conn, list(dict.fromkeys(key for key, _ in batches)))
        columns = _table_columns(conn, table)
        todo: list[tuple[str, pl.DataFrame]] = []
        seen: set[str] = set()
        for key, frame in batches:
            if key in applied or key in seen:
                result.batches_skipped.append(key)
                continue
            seen.add(key)
            todo.append((key, _conform(frame, columns, table, key)))
        if not todo:
            return result
        frames = [frame for _, frame in todo if frame.height]
        if frames:
            result.rows_loaded = _write_rows(conn, table, frames, columns, result, lock_timeout_s)
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL("INSERT INTO {} (batch_key, table_name, row_count) VALUES (%s, %s, %s)").format(
                    sql.Identifier(LEDGER_TABLE)
                ),
                [(key, table, frame.height) for key, frame in todo],
            )
        result.batches_applied = [key for key, _ in todo]
    return result


def load_batch(conn: psycopg.Connection, table: str, batch_key: str, frame: pl.DataFrame) -> bool:
    """Apply one processed batch inside the caller's transaction.

    Returns False (and changes nothing) if `batch_key` is already in the load ledger.
    """
    return bool(load_table_batches(conn, table, [(batch_key, frame)]).batches_applied)
