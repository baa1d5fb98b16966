"""The embedded default's totesys starts empty: the first capture from it fills it with generated data
of the real database's shape, so a fresh clone's first run (`dg launch --assets 'group:raw'`,
`reveries run`) has a source to read.

Only the embedded default's own `totesys` database, and only while it has none of the source tables:
a source set by TOTESYS_DSN is never written to. Two first runs at once fill it once (the second
waits on an advisory lock, then finds the tables).
"""

from __future__ import annotations

import psycopg

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.resources import PostgresResource

EMBEDDED_TOTESYS = "totesys"
FIRST_FILL_SCALE = 1.0  # the real database's shape: ~48 k rows, about 2 s
_FILL_LOCK = "reveries: fill the empty embedded totesys"


def fill_an_empty_embedded_totesys(totesys: PostgresResource, scale: float = FIRST_FILL_SCALE) -> int:
    """Fill the embedded default's totesys if it has no source table; returns the rows written (0: it
    was not the embedded default, or not empty)."""
    if totesys.dsn or totesys.embedded_database != EMBEDDED_TOTESYS:
        return 0
    return fill_if_empty(totesys.conninfo, scale)


def fill_if_empty(conninfo: str, scale: float) -> int:
    """Seed the database at `conninfo` at `scale` if it has none of the source tables; the rows written."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if _has_source_tables(conn):  # every capture after the first: one catalog query, no lock
            return 0
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (_FILL_LOCK,))
        if _has_source_tables(conn):  # another first run filled it while this one waited
            return 0
        from reveries_pipeline.totesys.seed import seed_totesys  # the generator's imports: only when used

        return sum(seed_totesys(conninfo, scale=scale).values())


def _has_source_tables(conn: psycopg.Connection) -> bool:
    (present,) = conn.execute(
        "SELECT count(*) FROM unnest(%s::text[]) AS t WHERE to_regclass(quote_ident(t)) IS NOT NULL",
        (list(SOURCE_TABLE_NAMES),),
    ).fetchone()
    return present > 0
