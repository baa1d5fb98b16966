"""Getting rows into PostgreSQL fast: COPY (CSV streamed from polars), into a temporary staging table
or straight into an empty warehouse table.

A staging table has the target's columns, minus a fact's record id (the warehouse assigns it), plus
SEQ: each row's position in the concatenated batches, which the merge orders by.
"""

from __future__ import annotations

import itertools

import polars as pl
import psycopg
from psycopg import sql

from reveries_pipeline.warehouse.schema import RECORD_ID

SEQ = "_reveries_seq"  # staging-only column: the row's position in the concatenated batches
_COPY_CHUNK = 8 * 1024 * 1024
_staging_ids = itertools.count()


def create_staging_table(conn: psycopg.Connection, table: str) -> sql.Identifier:
    """A temporary table shaped like `table`'s processed frames plus SEQ, dropped at commit at the latest."""
    staging = sql.Identifier(f"_stage_{table}_{next(_staging_ids)}")
    conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staging, sql.Identifier(table)))
    alters = [sql.SQL("ADD COLUMN {} BIGINT NOT NULL").format(sql.Identifier(SEQ))]
    if table in RECORD_ID:
        alters.insert(0, sql.SQL("DROP COLUMN {}").format(sql.Identifier(RECORD_ID[table])))
    conn.execute(sql.SQL("ALTER TABLE {} {}").format(staging, sql.SQL(", ").join(alters)))
    return staging


def copy_rows(
    conn: psycopg.Connection,
    target: sql.Identifier,
    frame: pl.DataFrame,
    columns: list[str],
    with_position: bool = True,
) -> None:
    """COPY the frame (plus its row position as SEQ, unless with_position=False) into `target` as CSV.

    polars writes a null as an unquoted empty field and an empty string as "" (quoted); PostgreSQL's
    CSV COPY reads the first as NULL and the second as ''. Decimals are written as exact text and
    times with microseconds.
    """
    copied = [*columns, SEQ] if with_position else columns
    if with_position:
        frame = frame.with_row_index(SEQ)
    data = frame.select(copied).write_csv(
        include_header=False,
        quote_style="necessary",
        null_value="",
        date_format="%Y-%m-%d",
        time_format="%H:%M:%S%.6f",
    )
    payload = memoryview(data.encode("utf-8"))
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        target, sql.SQL(", ").join(map(sql.Identifier, copied))
    )
    with conn.cursor().copy(statement) as copy:
        for start in range(0, len(payload), _COPY_CHUNK):
            copy.write(payload[start : start + _COPY_CHUNK])
