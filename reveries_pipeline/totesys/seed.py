"""Seed totesys: (re)create its tables and fill them with the generated data (generator.py).

The rows are streamed to PostgreSQL with COPY (CSV chunks written by polars), so scale 100 (over a
million sales orders) loads in seconds; the same seed and scale give byte-identical tables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import psycopg
from psycopg import sql

from reveries_pipeline.totesys.generator import generate_totesys
from reveries_pipeline.totesys.schema import PRIMARY_KEYS, TOTESYS_TABLES, apply_totesys_ddl

Progress = Callable[[str, int, int], None]

CHUNK_ROWS = 200_000

# The order side is large: with enough privilege it is loaded by two connections in parallel with
# foreign-key triggers off (session_replication_role = replica). The data is referentially sound by
# construction and the tests check every foreign key. Each list is one worker's share, parents first.
ORDER_SIDE: tuple[tuple[str, ...], ...] = (("sales_order", "transaction"), ("purchase_order", "payment"))
PARALLEL_MIN_ROWS = 50_000


def _copy(cur: psycopg.Cursor, table: str, df: pl.DataFrame, progress: Progress | None, freeze: bool = True) -> None:
    total = df.height
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv{})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, df.columns)),
        sql.SQL(", FREEZE" if freeze else ""),
    )
    if progress:
        progress(table, 0, total)
    with cur.copy(stmt) as copy:
        for start in range(0, total, CHUNK_ROWS):
            chunk = df.slice(start, CHUNK_ROWS)
            copy.write(
                chunk.write_csv(
                    include_header=False,
                    datetime_format="%Y-%m-%d %H:%M:%S%.3f",
                    date_format="%Y-%m-%d",
                    float_precision=2,
                )
            )
            if progress and start + chunk.height < total:
                progress(table, start + chunk.height, total)
    if progress:
        progress(table, total, total)  # after the COPY has finished server-side


def _can_skip_fk_triggers(conn: psycopg.Connection) -> bool:
    """Whether this role may switch foreign-key triggers off (superusers may; the parallel load needs it)."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
        return True
    except psycopg.Error:
        return False


def _load_worker(dsn: str, tables: tuple[str, ...], frames: dict[str, pl.DataFrame], progress: Progress | None) -> None:
    # Its own transaction, not the one that truncated, so COPY can't FREEZE here.
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        for table in tables:
            _copy(cur, table, frames[table], progress, freeze=False)
        conn.commit()


def _one_call_at_a_time(progress: Progress) -> Progress:
    """The caller's progress callback, serialised: the two parallel workers report through it."""
    lock = threading.Lock()

    def serialised(table: str, done: int, total: int) -> None:
        with lock:
            progress(table, done, total)

    return serialised


def _table_list(tables) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, tables))


def _continue_sequences(conn: psycopg.Connection) -> None:
    """Point each id sequence past the loaded rows, so inserts (the simulator's) get fresh ids."""
    with conn.transaction():
        for table in TOTESYS_TABLES:
            pk = PRIMARY_KEYS[table]
            stmt = sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(max({pk}), 1), max({pk}) IS NOT NULL) FROM {t}"
            ).format(pk=sql.Identifier(pk), t=sql.Identifier(table))
            conn.execute(stmt, (table, pk))


def seed_totesys(dsn: str, scale: float = 1.0, seed: int = 42, progress: Progress | None = None) -> dict[str, int]:
    """(Re)create and fill totesys at `scale`; returns the row count per table.

    progress(table, rows_done, rows_total) is called as tables load (possibly from two threads, never
    concurrently).
    """
    frames = generate_totesys(scale, seed)
    if progress is not None:
        progress = _one_call_at_a_time(progress)
    big = [t for share in ORDER_SIDE for t in share]
    with psycopg.connect(dsn) as conn:
        apply_totesys_ddl(conn)
        conn.commit()
        parallel = frames["payment"].height >= PARALLEL_MIN_ROWS and _can_skip_fk_triggers(conn)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(_table_list(TOTESYS_TABLES)))
            for table, df in frames.items():
                if not (parallel and table in big):
                    _copy(cur, table, df, progress)
        if parallel:
            with ThreadPoolExecutor(len(ORDER_SIDE)) as pool:
                for fut in [pool.submit(_load_worker, dsn, share, frames, progress) for share in ORDER_SIDE]:
                    fut.result()
        _continue_sequences(conn)
        conn.autocommit = True
        conn.execute(sql.SQL("ANALYZE {}").format(_table_list(TOTESYS_TABLES)))
    return {t: df.height for t, df in frames.items()}
