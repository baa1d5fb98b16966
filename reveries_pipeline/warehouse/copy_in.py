"""Getting rows into PostgreSQL fast: COPY, as CSV written by polars, into any table: a live warehouse
table on the initial load, or the merge's staging table.

With SEQ, each row also carries its position in the concatenated batches, which the merge orders by.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
import psycopg
from psycopg import sql
from psycopg.copy import LibpqWriter

SEQ = "_reveries_seq"  # staging-only column: the row's position in the concatenated batches
# Rows written as CSV per COPY message: the CSV of a whole table is never held in memory at once
# (1.6 M payment rows are ~250 MB of CSV text), only this many rows' worth (~10 MB).
COPY_ROWS_PER_CHUNK = 50_000


def copy_rows(
    conn: psycopg.Connection,
    target: sql.Identifier,
    frames: pl.DataFrame | Iterable[pl.DataFrame],
    columns: list[str],
    with_position: bool = True,
) -> int:
    """COPY the frame, or the frames one after another, into `target` as CSV, COPY_ROWS_PER_CHUNK rows at a time;
    with_position adds each row's position across all of them as SEQ. Returns the rows copied.

    polars writes a null as an unquoted empty field and an empty string as "" (quoted); PostgreSQL's
    CSV COPY reads the first as NULL and the second as ''. Decimals are written as exact text and
    times with microseconds.
    """
    if isinstance(frames, pl.DataFrame):
        frames = [frames]
    copied = [*columns, SEQ] if with_position else columns
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        target, sql.SQL(", ").join(map(sql.Identifier, copied))
    )
    cursor = conn.cursor()
    position = 0
    # The synchronous writer: psycopg's default queues up to 1,024 buffers (128 MB) for a thread to
    # send, which fills whenever polars writes CSV faster than the server takes it.
    with cursor.copy(statement, writer=LibpqWriter(cursor)) as copy:
        for frame in frames:
            for offset in range(0, frame.height, COPY_ROWS_PER_CHUNK):
                chunk = frame.slice(offset, COPY_ROWS_PER_CHUNK)
                if with_position:
                    chunk = chunk.with_row_index(SEQ, offset=position)
                copy.write(_csv(chunk.select(copied)))
                position += chunk.height
    return position


def _csv(frame: pl.DataFrame) -> str:
    return frame.write_csv(
        include_header=False,
        quote_style="necessary",
        null_value="",
        date_format="%Y-%m-%d",
        time_format="%H:%M:%S%.6f",
    )
