"""Versions, replays and deletes through processing: raw batches of both shapes, built by hand the way
ingestion writes them (poll: source columns, `_unrepresentable`, and `_op` in a delete reconciliation's
batch; logical: source columns plus `_op`, `_commit_lsn`, `_commit_time`, `_change_seq`), conformed
and modelled by the real code."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from reveries_pipeline.catalog import DELETED_ROWS, STAR_TABLES, star_table_marked_by
from reveries_pipeline.processing.conform import conform_raw_batch
from reveries_pipeline.processing.deletions import without_replays
from reveries_pipeline.processing.raw_schemas import CHANGE_COLUMNS, RAW_SCHEMAS
from reveries_pipeline.processing.schemas import DELETED_ROWS_SCHEMA, NULLABLE_COLUMNS, PROCESSED_SCHEMAS
from reveries_pipeline.processing.transforms import transform
from reveries_pipeline_tests.processing.raw_rows import T0, T1, T2, design, full_changes, sales_order

WAREHOUSE_DDL = Path(__file__).resolve().parents[2] / "reveries_pipeline" / "warehouse" / "ddl.sql"
COMMITTED = dt.datetime(2024, 3, 9, 10, 0, 0, 250000, tzinfo=dt.UTC)
POLL_KEY = "design/2024/03/09/design-20240309T110000123Z.parquet"


def poll_batch(table: str, rows: list[dict], ops: list[str | None] | None = None) -> pl.DataFrame:
    """A poll batch: the source columns and `_unrepresentable`; with `ops`, a delete reconciliation's
    batch (`_op`: null for a captured row, 'delete' for a vanished one)."""
    frame = pl.DataFrame(rows, schema=dict(RAW_SCHEMAS[table]), orient="row")
    frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("_unrepresentable"))
    if ops is not None:
        frame = frame.with_columns(pl.Series("_op", ops, dtype=pl.String))
    return frame


def vanished(table: str, pk: int, last_updated: dt.datetime) -> dict:
    """What a delete reconciliation writes for a vanished row: key and last version, the rest null."""
    return {f"{table}_id": pk, "last_updated": last_updated}


def logical_batch(table: str, changes: list[tuple[str, int, int, dict]]) -> pl.DataFrame:
    """A logical batch: per change (op, commit lsn, change seq, row), every source column nullable."""
    schema = dict(RAW_SCHEMAS[table])
    rows = [{c: row.get(c) for c in schema} for _, _, _, row in changes]
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    return frame.with_columns(
        pl.Series("_op", [op for op, _, _, _ in changes], dtype=pl.String),
        pl.Series("_commit_lsn", [lsn for _, lsn, _, _ in changes], dtype=pl.Int64),
        pl.Series("_commit_time", [COMMITTED] * len(changes), dtype=pl.Datetime("us", "UTC")),
        pl.Series("_change_seq", [seq for _, _, seq, _ in changes], dtype=pl.Int64),
    )


def conformed(table: str, *batches: tuple[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The batches of `table` as a pass reads them: each conformed, then concatenated in key order."""
    return {table: pl.concat([conform_raw_batch(table, frame, key) for key, frame in batches])}


def sales_versions(frame: pl.DataFrame) -> list[tuple[int, dt.time, int]]:
    return [(r["sales_order_id"], r["last_updated_time"], r["units_sold"]) for r in frame.iter_rows(named=True)]


def markers(frame: pl.DataFrame) -> list[tuple]:
    return [tuple(r) for r in frame.select(DELETED_ROWS.key).iter_rows()]


# ---------------------------------------------------------------------------------------------
# Conform carries the change columns.


def test_conform_carries_the_change_columns_of_a_logical_batch_in_change_order():
    batch = logical_batch("sales_order", [("insert", 10, 0, sales_order(1)), ("update", 10, 1, sales_order(2))])
    out = conform_raw_batch("sales_order", batch, "sales_order/b1.parquet")
    assert out.select("_op", "_commit_lsn", "_change_seq").rows() == [("insert", 10, 0), ("update", 10, 1)]
    assert out.get_column("_commit_time").to_list() == [COMMITTED.replace(tzinfo=None)] * 2  # naive UTC
    assert out.get_column("_conform_problem").to_list() == [None, None]  # no _unrepresentable: nothing noted


def test_a_poll_batch_without_change_columns_conforms_with_them_null_and_models_as_before():
    batch = poll_batch("sales_order", [sales_order(1), sales_order(2)])
    out = conform_raw_batch("sales_order", batch, "sales_order/b1.parquet")
    assert all(out.get_column(c).null_count() == 2 for c in CHANGE_COLUMNS)
    result = transform(full_changes() | {"sales_order": out}, {})
    plain = transform(full_changes(), {})  # the frames processing always modelled, without change columns
    for table, frame in plain.tables.items():
        assert result.tables[table].equals(frame), table
    assert result.rejects.height == 0 and result.deleted_rows.height == 0


# ---------------------------------------------------------------------------------------------
# Versions and replays.


def test_two_updates_of_a_row_in_one_pass_give_two_fact_versions_in_change_order():
    batch = logical_batch(
        "sales_order",
        [
            ("insert", 10, 0, sales_order(1, lu=T0, units_sold=1)),
            ("update", 20, 0, sales_order(1, lu=T1, units_sold=2)),
            ("update", 30, 0, sales_order(1, lu=T2, units_sold=3)),
        ],
    )
    result = transform(full_changes() | conformed("sales_order", ("sales_order/b1.parquet", batch)), {})
    assert sales_versions(result.tables["fact_sales_order"]) == [
        (1, T0.time(), 1),
        (1, T1.time(), 2),
        (1, T2.time(), 3),
    ]
    assert result.rejects.height == 0


def test_without_replays_keeps_the_first_of_each_change_and_every_row_without_one():
    frame = pl.DataFrame(
        {
            "n": [1, 2, 3, 4, 5, 6],
            "_commit_lsn": [10, 10, 10, None, None, 20],
            "_change_seq": [0, 1, 0, None, None, 0],
        },
        schema_overrides={"_commit_lsn": pl.Int64, "_change_seq": pl.Int64},
    )
    assert without_replays(frame).get_column("n").to_list() == [1, 2, 4, 5, 6]


def test_a_replayed_batch_in_the_same_pass_changes_nothing():
    first = logical_batch(
        "sales_order",
        [
            ("insert", 10, 0, sales_order(1, lu=T0, units_sold=1)),
            ("update", 20, 0, sales_order(1, lu=T1, units_sold=2)),
            ("delete", 30, 0, sales_order(1, lu=T1, units_sold=2)),
        ],
    )
    # the capture restarted: the changes from lsn 20 again, then the later ones
    replay = logical_batch(
        "sales_order",
        [
            ("update", 20, 0, sales_order(1, lu=T1, units_sold=2)),
            ("delete", 30, 0, sales_order(1, lu=T1, units_sold=2)),
            ("insert", 40, 0, sales_order(1, lu=T2, units_sold=9)),
        ],
    )
    once = transform(full_changes() | conformed("sales_order", ("s/1", first), ("s/2", replay[2:])), {})
    twice = transform(full_changes() | conformed("sales_order", ("s/1", first), ("s/2", replay)), {})
    assert twice.tables["fact_sales_order"].equals(once.tables["fact_sales_order"])
    assert twice.deleted_rows.equals(once.deleted_rows)
    assert sales_versions(twice.tables["fact_sales_order"]) == [(1, T0.time(), 1), (1, T1.time(), 2), (1, T2.time(), 9)]
    assert markers(twice.deleted_rows) == [("fact_sales_order", 1, T1.date(), T1.time())]
    assert twice.rejects.height == 0


# ---------------------------------------------------------------------------------------------
# Deletes become markers, never rejects.


def test_a_logical_delete_of_a_fact_becomes_a_marker_of_the_deleted_version():
    batch = logical_batch(
        "sales_order",
        [("insert", 10, 0, sales_order(5, lu=T0)), ("delete", 20, 0, sales_order(5, lu=T0))],
    )
    result = transform(full_changes() | conformed("sales_order", ("sales_order/b1.parquet", batch)), {})
    assert result.deleted_rows.schema == DELETED_ROWS_SCHEMA
    assert result.deleted_rows.rows() == [("fact_sales_order", 5, T0.date(), T0.time(), COMMITTED.replace(tzinfo=None))]
    assert sales_versions(result.tables["fact_sales_order"]) == [(5, T0.time(), 100)]  # history stays
    assert result.rejects.height == 0


def test_a_poll_delete_of_a_dimension_becomes_a_marker_and_no_row():
    batch = poll_batch("design", [design(1, lu=T1), vanished("design", 2, T0)], ops=[None, "delete"])
    result = transform(conformed("design", (POLL_KEY, batch)), {})
    found_at = dt.datetime(2024, 3, 9, 11, 0, 0, 123000)  # no commit time: when the reconciliation wrote it
    assert result.deleted_rows.rows() == [("dim_design", 2, T0.date(), T0.time(), found_at)]
    assert result.tables["dim_design"].get_column("design_id").to_list() == [1]
    assert result.rejects.height == 0  # its nulls are never validated


def test_a_delete_of_a_table_without_a_star_table_of_its_own_makes_no_marker():
    assert star_table_marked_by("department") is None
    batch = logical_batch("department", [("delete", 10, 0, {"department_id": 3, "last_updated": T0})])
    result = transform(conformed("department", ("department/b1.parquet", batch)), {})
    assert result.deleted_rows.height == 0 and result.rejects.height == 0


def test_every_source_delete_marks_the_star_table_whose_primary_source_it_is():
    for source in ("address", "staff", "counterparty", "currency", "payment_type", "transaction", "payment"):
        batch = logical_batch(source, [("delete", 10, 0, {f"{source}_id": 7, "last_updated": T1})])
        result = transform(conformed(source, (f"{source}/b1.parquet", batch)), {})
        star = star_table_marked_by(source)
        assert STAR_TABLES[star].sources[0] == source
        assert markers(result.deleted_rows) == [(star, 7, T1.date(), T1.time())], source
        assert result.rejects.height == 0, source


def test_a_truncate_is_rejected_naming_the_table_and_why():
    batch = logical_batch("sales_order", [("insert", 10, 0, sales_order(1)), ("truncate", 20, 0, {})])
    result = transform(full_changes() | conformed("sales_order", ("sales_order/b1.parquet", batch)), {})
    [reject] = result.rejects.iter_rows(named=True)
    assert reject["table"] == "sales_order" and reject["source_key"] == "sales_order/b1.parquet"
    assert reject["reason"].startswith("truncate: every sales_order row was removed at the source")
    assert result.deleted_rows.height == 0
    assert sales_versions(result.tables["fact_sales_order"]) == [(1, T0.time(), 100)]


# ---------------------------------------------------------------------------------------------
# The marker table's description: processing's schema and the warehouse DDL agree.


def test_the_marker_schema_matches_the_warehouse_ddl():
    text = WAREHOUSE_DDL.read_text()
    body = re.search(rf"CREATE TABLE IF NOT EXISTS {DELETED_ROWS.name} \((.*?)\n\);", text, re.S).group(1)
    types = {"TEXT": pl.String, "INT": pl.Int32, "DATE": pl.Date, "TIME": pl.Time, "TIMESTAMP": pl.Datetime("us")}
    columns = re.findall(r"^\s+(\w+)\s+(TEXT|INT|DATE|TIME|TIMESTAMP)\b([^,\n]*)", body, re.M)
    assert [c for c, _, _ in columns] == PROCESSED_SCHEMAS[DELETED_ROWS.name].names()
    for column, sqltype, rest in columns:
        assert DELETED_ROWS_SCHEMA[column] == types[sqltype], column
        assert (column in NULLABLE_COLUMNS[DELETED_ROWS.name]) == ("NOT NULL" not in rest), column
    assert f"PRIMARY KEY ({', '.join(DELETED_ROWS.key)})" in body
