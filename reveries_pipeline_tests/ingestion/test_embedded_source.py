"""The embedded default's empty totesys is filled on the first capture; a configured source never is."""

from __future__ import annotations

import psycopg

from reveries_pipeline.ingestion.embedded_source import fill_an_empty_embedded_totesys, fill_if_empty
from reveries_pipeline.resources import PostgresResource, postgres


def _tables(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT to_regclass('sales_order')").fetchone()[0] is not None


def _first_order_units(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT units_sold FROM sales_order ORDER BY sales_order_id LIMIT 1").fetchone()[0]


def test_an_empty_totesys_is_filled_once_and_then_left_as_it_is(make_database):
    dsn = make_database("totesys")

    assert fill_if_empty(dsn, scale=0.05) > 0
    assert _tables(dsn)
    with psycopg.connect(dsn) as conn:  # a change at the source, as a user would make
        conn.execute(
            "UPDATE sales_order SET units_sold = 424242"
            " WHERE sales_order_id = (SELECT min(sales_order_id) FROM sales_order)"
        )
    assert fill_if_empty(dsn, scale=0.05) == 0  # it has its tables: never seeded again
    assert _first_order_units(dsn) == 424242


def test_a_source_set_by_dsn_is_never_written_even_when_empty(make_database):
    dsn = make_database("totesys")
    assert fill_an_empty_embedded_totesys(PostgresResource(dsn=dsn)) == 0
    assert not _tables(dsn)  # still without tables


def test_the_embedded_default_totesys_is_filled_through_its_resource(make_database, monkeypatch):
    dsn = make_database("totesys")
    # the embedded default's database, served by the test server instead of this folder's .reveries
    monkeypatch.setattr(postgres, "database_conninfo", lambda _dsn, _variable, database: dsn)

    written = fill_an_empty_embedded_totesys(PostgresResource(embedded_database="totesys"), scale=0.05)

    assert written > 0 and _tables(dsn)
