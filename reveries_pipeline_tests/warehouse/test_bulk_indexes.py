"""A current table filled whole (a first load, a rebuild) gets its indexes built once after the fill,
exactly as the DDL defines them; an open reader of it keeps them in place instead of stalling the load."""

from __future__ import annotations

import psycopg
import pytest

from reveries_pipeline.warehouse.loader import load_table_batches
from reveries_pipeline.warehouse.schema import apply_warehouse_ddl
from reveries_pipeline_tests.warehouse.frames import sales_frame, seed_dimensions
from reveries_pipeline_tests.warehouse.test_readers import open_reader

CURRENT = "fact_sales_order_current"
ORDERS = ("s/1.parquet", sales_frame([{"sales_order_id": i} for i in (1, 2, 3)]))


def _indexes(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """name -> (oid, definition) of the current table's indexes."""
    rows = conn.execute(
        "SELECT i.relname, x.indexrelid::oid::int, pg_get_indexdef(x.indexrelid) FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass(%s)",
        (CURRENT,),
    ).fetchall()
    return {name: (oid, definition) for name, oid, definition in rows}


@pytest.fixture
def warehouse(warehouse_dsn) -> str:
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        seed_dimensions(conn)
    return warehouse_dsn


def test_a_first_load_builds_each_current_index_anew_as_the_ddl_defines_it(warehouse):
    with psycopg.connect(warehouse) as conn:
        before = _indexes(conn)
        load_table_batches(conn, "fact_sales_order", [ORDERS], lock_timeout_s=5)
        after = _indexes(conn)
        assert len(before) == 2  # the primary key and the created-date index
        assert {name: d for name, (_, d) in after.items()} == {name: d for name, (_, d) in before.items()}
        assert all(after[name][0] != before[name][0] for name in before)  # dropped, then built after the fill
        assert conn.execute(f"SELECT count(*) FROM {CURRENT}").fetchone() == (3,)  # noqa: S608 - a fixed name
        with pytest.raises(psycopg.errors.UniqueViolation):  # the primary key holds again
            conn.execute(f"INSERT INTO {CURRENT} SELECT * FROM {CURRENT} LIMIT 1")  # noqa: S608


def test_an_open_reader_of_the_current_table_keeps_its_indexes_in_place(warehouse):
    with psycopg.connect(warehouse) as conn:
        before = _indexes(conn)
    with open_reader(warehouse) as (reader, _):  # it has read the current orders: ACCESS SHARE held
        with psycopg.connect(warehouse, options="-c statement_timeout=20000") as conn:
            result = load_table_batches(conn, "fact_sales_order", [ORDERS], lock_timeout_s=0.3)
            conn.commit()
    assert result.rows_loaded == 3
    with psycopg.connect(warehouse) as conn:
        assert _indexes(conn) == before  # never dropped
        assert conn.execute(f"SELECT count(*) FROM {CURRENT}").fetchone() == (3,)  # noqa: S608
