"""The pre-aggregates against a recompute: what every test that changes the warehouse can end with."""

from __future__ import annotations

import psycopg
from psycopg import sql

from reveries_pipeline.warehouse import reporting


def aggregate_mismatches(conn: psycopg.Connection) -> list[str]:
    """Each pre-aggregate against its sums recomputed from the `_current` tables."""
    problems = []
    for aggregate in reporting.AGGREGATES:
        kept = sql.SQL("SELECT {} FROM {}").format(
            reporting.aggregate_columns(aggregate), sql.Identifier(aggregate.table)
        )
        recomputed = reporting.aggregate_rows(aggregate, sql.Identifier(f"{aggregate.fact}_current"))
        query = sql.SQL(
            "SELECT (SELECT count(*) FROM ({0} EXCEPT ALL {1}) AS a), (SELECT count(*) FROM ({1} EXCEPT ALL {0}) AS b)"
        )
        extra, missing = conn.execute(query.format(kept, recomputed)).fetchone()
        if extra or missing:
            problems.append(f"{aggregate.table}: {extra} rows kept that a recompute lacks, {missing} missing")
    return problems
