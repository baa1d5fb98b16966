"""Getting rows into PostgreSQL fast: COPY, as CSV written by polars, into any table: a live warehouse
table on the initial load, or the merge's staging table.

With SEQ, each row also carries its position in the concatenated batches, which the merge orders by.
"""

from __future__ import annotations

import polars as pl
import psycopg
from psycopg import sql

SEQ = "_reveries_seq"  # staging-only column: the row's position in the concatenated batches
_COPY_CHUNK = 8 * 1024 * 1024


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
