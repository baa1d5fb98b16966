"""Deletion markers in the warehouse: loaded exactly once, hiding a deleted fact version from the
`_current` views (its history stays), marking a dimension row that stays, and never making a reader
wait."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import psycopg
import pytest

from reveries_pipeline.catalog import DELETED_ROWS, FACT_TABLES
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.object_names import put_new_batch
from reveries_pipeline.lake.parquet import read_parquet_object
from reveries_pipeline.processing.schemas import DELETED_ROWS_SCHEMA, TARGET_SCHEMAS
from reveries_pipeline.warehouse import checks
from reveries_pipeline.warehouse.loader import load_batch, load_table_batches
from reveries_pipeline.warehouse.schema import FACT_VERSION_KEY, apply_warehouse_ddl
from reveries_pipeline_tests.pipeline_harness import check_results
from reveries_pipeline_tests.waiting import Worker, wait_until
from reveries_pipeline_tests.warehouse.expected_schema import EXPECTED_FKS, foreign_keys_of
from reveries_pipeline_tests.warehouse.frames import DAY0, sales_frame, seed_dimensions
from reveries_pipeline_tests.warehouse.test_readers import sessions_blocked_by

MARKERS = DELETED_ROWS.name
NINE, TEN = dt.time(9, 0), dt.time(10, 0)
DELETED_AT = dt.datetime(2024, 1, 2, 8, 30)


def marker_frame(rows: list[tuple[str, int, dt.date, dt.time]]) -> pl.DataFrame:
    return pl.DataFrame([(*r, DELETED_AT) for r in rows], schema=DELETED_ROWS_SCHEMA, orient="row")


def fact_frame(fact: str, natural_id: int, updated: dt.time) -> pl.DataFrame:
    """One version of a fact row (every key resolving to the seeded dimensions)."""
    natural, date_column, time_column = FACT_VERSION_KEY[fact]
    values = {natural: natural_id, date_column: DAY0, time_column: updated, "created_date": DAY0}
    defaults = {pl.Int32: 1, pl.Date: DAY0, pl.Time: NINE, pl.String: "X", pl.Boolean: False}
    row = {
        column: values.get(column, Decimal("1.00") if isinstance(dtype, pl.Decimal) else defaults[dtype.base_type()])
        for column, dtype in TARGET_SCHEMAS[fact].items()
    }
    return pl.DataFrame([row], schema=TARGET_SCHEMAS[fact], orient="row")


def current_ids(conn, fact: str) -> list[int]:
    natural = FACT_VERSION_KEY[fact][0]
    return [r[0] for r in conn.execute(f"SELECT {natural} FROM {fact}_current ORDER BY 1")]  # noqa: S608


def markers_in(conn) -> list[tuple]:
    return conn.execute(
        f"SELECT star_table, natural_id, version_date, version_time FROM {MARKERS} ORDER BY 1, 2, 3, 4"  # noqa: S608
    ).fetchall()


@pytest.fixture
def warehouse(warehouse_dsn):
    """A connection to a warehouse with the schema applied and every dimension seeded (committed)."""
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        seed_dimensions(conn)
        conn.commit()
        yield conn


def test_markers_load_exactly_once_per_batch_and_per_marker(warehouse):
    conn = warehouse
    first = marker_frame([("fact_sales_order", 7, DAY0, NINE), ("dim_staff", 2, DAY0, NINE)])
    twice_within = pl.concat([first, first])  # the initial COPY into the empty table keeps each marker once
    assert load_table_batches(conn, MARKERS, [("m/1.parquet", twice_within)]).rows_loaded == 2
    replayed = load_table_batches(conn, MARKERS, [("m/1.parquet", first)])  # the same processed batch again
    assert replayed.batches_skipped == ["m/1.parquet"] and replayed.rows_loaded == 0
    # a processed batch written twice (a pass redone after a crash), plus one new marker, staged and merged
    again = pl.concat([first, marker_frame([("fact_payment", 3, DAY0, TEN)]), first])
    assert load_table_batches(conn, MARKERS, [("m/2.parquet", again)]).rows_loaded == 1
    assert markers_in(conn) == [
        ("dim_staff", 2, DAY0, NINE),
        ("fact_payment", 3, DAY0, TEN),
        ("fact_sales_order", 7, DAY0, NINE),
    ]
    ledger = conn.execute("SELECT batch_key, row_count FROM reveries_load_ledger WHERE table_name = %s", (MARKERS,))
    assert sorted(ledger.fetchall()) == [("m/1.parquet", 4), ("m/2.parquet", 5)]


@pytest.mark.parametrize("fact", FACT_TABLES)
def test_current_hides_a_deleted_version_keeps_its_history_and_shows_a_newer_one(warehouse, fact):
    conn = warehouse
    natural = FACT_VERSION_KEY[fact][0]
    load_batch(conn, fact, f"{fact}/1", pl.concat([fact_frame(fact, 7, NINE), fact_frame(fact, 8, NINE)]))
    # 7's current version is deleted; a marker of a version 8 no longer has (an older one) hides nothing
    deleted = marker_frame([(fact, 7, DAY0, NINE), (fact, 8, DAY0, dt.time(8, 0))])
    load_batch(conn, MARKERS, "m/1", deleted)
    assert current_ids(conn, fact) == [8]
    assert conn.execute(f"SELECT count(*) FROM {fact} WHERE {natural} = 7").fetchone() == (1,)  # noqa: S608
    # re-inserted at the source later: a newer version, which no marker names
    load_batch(conn, fact, f"{fact}/2", fact_frame(fact, 7, TEN))
    assert current_ids(conn, fact) == [7, 8]
    assert conn.execute(f"SELECT count(*) FROM {fact} WHERE {natural} = 7").fetchone() == (2,)  # noqa: S608
    assert checks.current_matches_history(conn, fact).passed


def test_a_deleted_dimension_row_stays_marked_with_its_facts_and_foreign_keys(warehouse):
    conn = warehouse
    load_batch(conn, "fact_sales_order", "s/1", sales_frame([{"sales_order_id": 1, "sales_staff_id": 2}]))
    load_batch(conn, MARKERS, "m/1", marker_frame([("dim_staff", 2, DAY0, NINE)]))
    # a fact version arriving after the delete still resolves its key
    load_batch(conn, "fact_sales_order", "s/2", sales_frame([{"sales_order_id": 2, "sales_staff_id": 2}]))
    conn.commit()
    assert conn.execute("SELECT first_name FROM dim_staff WHERE staff_id = 2").fetchone() == ("Bob",)
    assert current_ids(conn, "fact_sales_order") == [1, 2]
    assert foreign_keys_of(conn, "fact_sales_order") == EXPECTED_FKS["fact_sales_order"]
    assert checks.orphan_keys(conn, "fact_sales_order").passed


def test_reconciliation_counts_neither_a_deleted_fact_id_nor_a_deleted_dimension_row(warehouse, make_database):
    conn = warehouse
    load_batch(conn, "fact_sales_order", "s/1", sales_frame([{"sales_order_id": 1}, {"sales_order_id": 2}]))
    load_batch(conn, MARKERS, "m/1", marker_frame([("fact_sales_order", 2, DAY0, NINE), ("dim_staff", 2, DAY0, NINE)]))
    conn.commit()
    with psycopg.connect(make_database("deletes_source"), autocommit=True) as source:
        source.execute("CREATE TABLE sales_order (sales_order_id int); INSERT INTO sales_order VALUES (1)")
        source.execute("CREATE TABLE staff (staff_id int); INSERT INTO staff VALUES (1)")
        for table in ("fact_sales_order", "dim_staff"):
            result = checks.reconciliation(conn, source, table)
            assert result.passed, (table, result.metadata)
            assert result.metadata["warehouse"].value == 1, table


@pytest.mark.parametrize("into", ["an empty table", "a loaded table"])
def test_a_marker_load_takes_no_lock_an_open_reader_waits_on(warehouse, warehouse_dsn, into):
    if into == "a loaded table":
        load_batch(warehouse, MARKERS, "m/0", marker_frame([("dim_design", 1, DAY0, NINE)]))
    load_batch(warehouse, "fact_sales_order", "s/1", sales_frame([{"sales_order_id": 4}]))
    warehouse.commit()
    with psycopg.connect(warehouse_dsn, autocommit=True, application_name="bi-reader") as reader:
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert reader.execute(f"SELECT count(*) FROM {MARKERS}").fetchone()[0] == len(markers_in(warehouse))  # noqa: S608
        assert reader.execute("SELECT count(*) FROM fact_sales_order_current").fetchone() == (1,)

        def load() -> int:
            with psycopg.connect(warehouse_dsn) as conn:
                batch = marker_frame([("fact_sales_order", 4, DAY0, NINE), ("dim_staff", 1, DAY0, NINE)])
                return load_table_batches(conn, MARKERS, [("m/1", batch)], lock_timeout_s=600).rows_loaded

        loading = Worker(load, name="marker load").start()
        blocked: list[tuple[int, str]] = []
        with psycopg.connect(warehouse_dsn, autocommit=True) as watcher:

            def ended_or_blocked() -> bool:
                blocked[:] = sessions_blocked_by(watcher, reader.info.backend_pid)
                return bool(blocked) or not loading.is_alive()

            wait_until(ended_or_blocked, "the marker load to end or to wait for the reader", timeout=120)
        assert not blocked, f"the marker load waits for the reader's transaction: {blocked}"
        assert loading.result(timeout=120) == 2
        assert reader.execute("SELECT count(*) FROM fact_sales_order_current").fetchone() == (1,)  # its snapshot
        reader.execute("ROLLBACK")
    assert current_ids(warehouse, "fact_sales_order") == []


# ---------------------------------------------------------------------------------------------
# Through the real assets: a delete reconciliation's raw batch, processed and loaded.


def _write_poll_delete(pipeline, table: str, natural_id: int, tmp_path) -> None:
    """The raw batch a poll-mode delete reconciliation writes for a vanished row: the captured
    batch's columns, the key and last captured `last_updated` kept, every other column null, `_op`."""
    [*_, last] = new_batches(pipeline.ingestion, table, None)
    captured = read_parquet_object(pipeline.ingestion, last.key)
    pk = f"{table}_id"
    row = captured.filter(pl.col(pk) == natural_id).with_columns(
        pl.lit(None, dtype=captured.schema[c]).alias(c) for c in captured.columns if c not in (pk, "last_updated")
    )
    path = tmp_path / f"{table}-delete.parquet"
    row.with_columns(pl.lit("delete", dtype=pl.String).alias("_op")).write_parquet(path)
    put_new_batch(pipeline.ingestion, table, path, last.key)


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_a_source_delete_reaches_the_warehouse_once_through_the_assets(pipeline, tmp_path):
    pipeline.etl()
    (order,) = pipeline.source("SELECT max(sales_order_id) FROM sales_order")[0]
    (design,) = pipeline.source("SELECT max(design_id) FROM design")[0]
    pipeline.source("DELETE FROM sales_order WHERE sales_order_id = %s", (order,))
    _write_poll_delete(pipeline, "sales_order", order, tmp_path)
    _write_poll_delete(pipeline, "design", design, tmp_path)  # its sales orders still reference it

    pipeline.process()
    evaluations = check_results(pipeline.load())

    assert pipeline.warehouse("SELECT count(*) FROM fact_sales_order_current WHERE sales_order_id = %s", (order,)) == [
        (0,)
    ]
    assert pipeline.warehouse("SELECT count(*) FROM fact_sales_order WHERE sales_order_id = %s", (order,)) == [(1,)]
    assert pipeline.warehouse("SELECT count(*) FROM dim_design WHERE design_id = %s", (design,)) == [(1,)]
    assert pipeline.warehouse(f"SELECT star_table, natural_id FROM {MARKERS} ORDER BY 1") == [  # noqa: S608
        ("dim_design", design),
        ("fact_sales_order", order),
    ]
    # the warehouse now agrees with the source on the orders (the design is still in the source)
    assert evaluations[("warehouse/fact_sales_order", "reconciles_with_source")].passed
    assert evaluations[("warehouse/fact_sales_order", "no_orphan_keys")].passed

    # the processed marker batch written a second time (a pass redone after a crash): loaded once
    [batch] = pipeline.processed.list_objects(f"{MARKERS}/")
    copy = tmp_path / "markers-again.parquet"
    copy.write_bytes(pipeline.processed.get_bytes(batch.key))
    put_new_batch(pipeline.processed, MARKERS, copy, batch.key)
    result = pipeline.load()
    [materialized] = [
        m for m in result.asset_materializations_for_node("warehouse_tables") if m.asset_key.path[-1] == MARKERS
    ]
    assert materialized.metadata["batches_applied"].value == 1 and materialized.metadata["rows_loaded"].value == 0
    assert pipeline.warehouse(f"SELECT count(*) FROM {MARKERS}") == [(2,)]  # noqa: S608
