"""A processed batch object is loaded a row group at a time: the merge rules and row order hold across
row groups and batches, into an empty table and into one holding rows, from local and S3 buckets."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
import psycopg
import pytest

from reveries_pipeline.lake.object_names import batch_key
from reveries_pipeline.lake.parquet import opened_parquet_object
from reveries_pipeline.warehouse.loader import apply_pending
from reveries_pipeline.warehouse.locks import lock_warehouse
from reveries_pipeline.warehouse.schema import apply_warehouse_ddl
from reveries_pipeline_tests.warehouse.frames import dim_staff_frame, sales_frame, seed_dimensions


def _put_batch(store, table: str, frame: pl.DataFrame, minute: int) -> str:
    """Store `frame` as a batch object of one-row row groups."""
    key = batch_key(table, dt.datetime(2026, 1, 1, 0, minute, tzinfo=dt.UTC))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.parquet"
        frame.write_parquet(path, row_group_size=1)
        store.put_new_file(key, path)
    return key


def _load(dsn: str, store, table: str):
    with psycopg.connect(dsn) as conn:
        lock_warehouse(conn)
        result = apply_pending(conn, store, table)
        conn.commit()
        return result, conn.execute(f"SELECT staff_id, first_name FROM {table} ORDER BY 1").fetchall()  # noqa: S608


def test_row_groups_are_read_one_at_a_time_in_order(processed_store):
    frame = dim_staff_frame(((1, "A", "L"), (2, "B", "R"), (3, "C", "S")))
    key = _put_batch(processed_store, "dim_staff", frame, 1)
    with opened_parquet_object(processed_store, key) as batch:
        chunks = list(batch.row_groups(["staff_id", "first_name"]))
    assert batch.height == 3 and [c.height for c in chunks] == [1, 1, 1]
    assert pl.concat(chunks).equals(frame.select("staff_id", "first_name"))


@pytest.mark.parametrize("into", ["an empty table", "a table holding rows"])
def test_the_last_row_of_a_key_wins_across_row_groups_and_batches(warehouse_dsn, processed_store, into):
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        conn.commit()
    if into == "a table holding rows":  # loaded by an earlier batch: the next ones stage and merge
        _put_batch(processed_store, "dim_staff", dim_staff_frame(((9, "Nine", "N"),)), 0)
        _load(warehouse_dsn, processed_store, "dim_staff")
    _put_batch(processed_store, "dim_staff", dim_staff_frame(((5, "Old", "N"), (6, "Six", "N"), (5, "Mid", "N"))), 1)
    _put_batch(processed_store, "dim_staff", dim_staff_frame(((5, "New", "N"),)), 2)
    result, rows = _load(warehouse_dsn, processed_store, "dim_staff")
    assert len(result.batches_applied) == 2
    assert (5, "New") in rows and (6, "Six") in rows and (5, "Old") not in rows


def test_fact_versions_keep_their_order_across_row_groups(warehouse_dsn, processed_store):
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        seed_dimensions(conn)
        conn.commit()
    orders = sales_frame([{"sales_order_id": i} for i in (3, 1, 2)] + [{"sales_order_id": 1}])  # a repeat
    _put_batch(processed_store, "fact_sales_order", orders, 1)
    with psycopg.connect(warehouse_dsn) as conn:
        lock_warehouse(conn)
        result = apply_pending(conn, processed_store, "fact_sales_order")
        conn.commit()
        ids = conn.execute("SELECT sales_order_id FROM fact_sales_order ORDER BY sales_record_id").fetchall()
    assert result.rows_loaded == 3 and ids == [(3,), (1,), (2,)]  # batch order, the repeated version once


def test_an_error_of_the_load_itself_is_not_blamed_on_the_object(processed_store):
    _put_batch(processed_store, "dim_staff", dim_staff_frame(((1, "A", "L"),)), 1)
    key = processed_store.list_objects("dim_staff/").__next__().key
    with pytest.raises(RuntimeError, match="the load's own error") as raised:
        with opened_parquet_object(processed_store, key):
            raise RuntimeError("the load's own error")
    assert type(raised.value) is RuntimeError  # not an UnreadableObjectError telling to quarantine the batch
