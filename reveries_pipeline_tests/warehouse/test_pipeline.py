"""The whole chain into the warehouse, on real PostgreSQL with local and S3 buckets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reveries_pipeline.catalog import DELETED_ROWS
from reveries_pipeline.warehouse import copy_in, loader
from reveries_pipeline.warehouse.schema import WAREHOUSE_TABLES
from reveries_pipeline_tests.pipeline_harness import check_results
from reveries_pipeline_tests.support import lake_keys
from reveries_pipeline_tests.warehouse.expected_schema import EXPECTED_COLUMNS

SOURCE_OF = {
    "dim_staff": "staff",
    "dim_location": "address",
    "dim_design": "design",
    "dim_currency": "currency",
    "dim_counterparty": "counterparty",
    "dim_payment_type": "payment_type",
    "dim_transaction": "transaction",
    "fact_sales_order": "sales_order",
    "fact_purchase_order": "purchase_order",
    "fact_payment": "payment",
}


def counts(pipeline) -> dict[str, int]:
    return {
        t: pipeline.warehouse(f"SELECT count(*) FROM {t}")[0][0]  # noqa: S608 - fixed names
        for t in (*WAREHOUSE_TABLES, "reveries_load_ledger")
    }


def test_initial_load_equals_what_the_source_implies(pipeline):
    result = pipeline.etl()
    for table, source in SOURCE_OF.items():
        assert counts(pipeline)[table] == pipeline.source(f"SELECT count(*) FROM {source}")[0][0], table
    # exact values, table by table: every payment amount and sales figure survives unchanged
    src = pipeline.source("SELECT payment_id, payment_amount, paid, payment_date::date FROM payment ORDER BY 1")
    wh = pipeline.warehouse("SELECT payment_id, payment_amount, paid, payment_date FROM fact_payment ORDER BY 1")
    assert src == wh and isinstance(wh[0][1], Decimal)
    src = pipeline.source(
        "SELECT sales_order_id, created_at::date, created_at::time, last_updated::time, staff_id, units_sold,"
        " unit_price, agreed_delivery_date::date FROM sales_order ORDER BY 1"
    )
    wh = pipeline.warehouse(
        "SELECT sales_order_id, created_date, created_time, last_updated_time, sales_staff_id, units_sold,"
        " unit_price, agreed_delivery_date FROM fact_sales_order ORDER BY 1"
    )
    assert src == wh
    assert any(row[2].microsecond for row in wh)  # milliseconds kept
    staff = pipeline.source(
        "SELECT s.staff_id, s.first_name, s.last_name, d.department_name, d.location,"
        " s.email_address FROM staff s JOIN department d USING (department_id) ORDER BY 1"
    )
    assert staff == pipeline.warehouse("SELECT * FROM dim_staff ORDER BY 1")
    evaluations = check_results(result)
    # no FX rates were fetched in this world: every fact says its created dates lack one (a warning)
    fx = {k: e for k, e in evaluations.items() if k[1] == "fx_rate_for_every_created_date"}
    assert len(fx) == 3 and all(not e.passed and e.metadata["pairs_without_rate"].value > 0 for e in fx.values())
    others = {k: e for k, e in evaluations.items() if k not in fx}
    assert others and all(e.passed for e in others.values()), [k for k, e in others.items() if not e.passed]


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_each_table_is_materialized_with_its_name_row_count_and_columns(pipeline):
    result = pipeline.etl()
    materialized = {
        m.asset_key.to_user_string(): m.metadata for m in result.asset_materializations_for_node("warehouse_tables")
    }
    assert set(materialized) == {f"warehouse/{t}" for t in WAREHOUSE_TABLES}
    rows = counts(pipeline)
    for table in WAREHOUSE_TABLES:
        metadata = materialized[f"warehouse/{table}"]
        assert metadata["dagster/table_name"].value == f"public.{table}"
        columns = metadata["dagster/column_schema"].value.columns
        described = [(c.name, c.type.split("(")[0], c.constraints.nullable) for c in columns]
        assert described == EXPECTED_COLUMNS[table], table
        if table == DELETED_ROWS.name:  # nothing was deleted: no marker, no batch
            assert metadata["dagster/row_count"].value == rows[table] == 0
            assert metadata["batches_applied"].value == 0 and metadata["rows_loaded"].value == 0
            continue
        assert metadata["dagster/row_count"].value == rows[table] > 0
        assert metadata["batches_applied"].value == 1 and metadata["rows_loaded"].value == rows[table]
        assert {"batches_skipped", "last_batch_key", "load_seconds"} <= set(metadata)


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)  # bucket-agnostic: see the S3 cases here
def test_updated_order_is_a_new_version_and_the_current_view_shows_it(pipeline):
    pipeline.etl()
    pipeline.source("UPDATE sales_order SET units_sold = 777, last_updated = now() WHERE sales_order_id = 5")
    pipeline.etl()
    versions = pipeline.warehouse(
        "SELECT sales_record_id, units_sold FROM fact_sales_order WHERE sales_order_id = 5 ORDER BY 1"
    )
    assert len(versions) == 2 and versions[1][1] == 777 and versions[0][0] != versions[1][0]
    assert pipeline.warehouse(
        "SELECT units_sold, sales_record_id FROM fact_sales_order_current WHERE sales_order_id = 5"
    ) == [(777, versions[1][0])]
    assert (
        pipeline.warehouse("SELECT count(*), count(DISTINCT sales_order_id) FROM fact_sales_order_current")[0]
        == (pipeline.source("SELECT count(*) FROM sales_order")[0][0],) * 2
    )


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)  # bucket-agnostic: see the S3 cases here
def test_joined_dimension_change_is_reflected(pipeline):
    pipeline.etl()
    address_id = pipeline.source("SELECT legal_address_id FROM counterparty ORDER BY 1 LIMIT 1")[0][0]
    pipeline.source(
        "UPDATE address SET phone = '0000 000000', last_updated = now() WHERE address_id = %s", (address_id,)
    )
    pipeline.etl()
    expected = pipeline.source("SELECT count(*) FROM counterparty WHERE legal_address_id = %s", (address_id,))[0][0]
    assert (
        pipeline.warehouse(
            "SELECT count(*) FROM dim_counterparty WHERE counterparty_legal_phone_number = '0000 000000'"
        )[0][0]
        == expected
        > 0
    )
    assert pipeline.warehouse("SELECT phone FROM dim_location WHERE location_id = %s", (address_id,)) == [
        ("0000 000000",)
    ]


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)  # bucket-agnostic: see the S3 cases here
def test_second_run_without_changes_changes_nothing(pipeline):
    pipeline.etl()
    before = counts(pipeline)
    snapshot = pipeline.warehouse("SELECT * FROM fact_payment ORDER BY 1")
    pipeline.etl()
    assert counts(pipeline) == before
    assert pipeline.warehouse("SELECT * FROM fact_payment ORDER BY 1") == snapshot


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)  # bucket-agnostic: see the S3 cases here
def test_replayed_batch_is_a_no_op(pipeline):
    pipeline.etl()
    before = counts(pipeline)
    [key] = lake_keys(pipeline.processed, "fact_sales_order/")
    from reveries_pipeline.lake.parquet import read_parquet_object

    frame = read_parquet_object(pipeline.processed, key)
    import psycopg

    with psycopg.connect(pipeline.warehouse_dsn) as conn:
        assert loader.load_batch(conn, "fact_sales_order", key, frame) is False
    pipeline.load()  # a re-delivered run loads nothing twice
    assert counts(pipeline) == before


def test_crash_mid_load_leaves_the_warehouse_unchanged_then_recovers(pipeline, monkeypatch):
    pipeline.ingest()
    pipeline.process()
    real = copy_in.copy_rows

    def crash_after_copying_payments(conn, target, frame, *args, **kwargs):
        real(conn, target, frame, *args, **kwargs)
        if "payment_id" in frame.columns:  # the last table of the load, after its rows are in
            raise RuntimeError("simulated crash while loading fact_payment")

    monkeypatch.setattr(copy_in, "copy_rows", crash_after_copying_payments)
    failed = pipeline.load(raise_on_error=False)
    assert not failed.success
    empty = counts(pipeline)
    assert set(empty.values()) == {0}, empty  # dimensions and earlier facts rolled back too
    monkeypatch.undo()
    assert pipeline.load().success
    assert counts(pipeline)["fact_payment"] == pipeline.source("SELECT count(*) FROM payment")[0][0]
    assert counts(pipeline)["reveries_load_ledger"] == 11


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)  # bucket-agnostic: see the S3 cases here
def test_works_against_a_prebuilt_warehouse(pipeline):
    from importlib.resources import files

    pipeline.warehouse(files("reveries_pipeline.warehouse").joinpath("ddl.sql").read_text())
    pipeline.etl()
    assert counts(pipeline)["fact_sales_order"] == pipeline.source("SELECT count(*) FROM sales_order")[0][0]


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_orphan_check_fails_when_a_dimension_row_is_missing(pipeline):
    pipeline.etl()
    pipeline.warehouse(
        "ALTER TABLE fact_sales_order DROP CONSTRAINT fact_sales_order_design_id_fkey;"
        " DELETE FROM dim_design WHERE design_id IN (SELECT design_id FROM fact_sales_order LIMIT 1)"
    )
    result = pipeline.load()
    check = check_results(result)[("warehouse/fact_sales_order", "no_orphan_keys")]
    assert not check.passed and "design_id -> dim_design" in check.metadata["orphans"].value


def _dump(pipeline) -> dict[str, list[tuple]]:
    return {
        t: pipeline.warehouse(f"SELECT * FROM {t} ORDER BY 1")  # noqa: S608 - fixed names
        for t in WAREHOUSE_TABLES
    }


def test_rebuild_from_the_lake_equals_the_incremental_warehouse(pipeline):
    from dagster import materialize

    from reveries_pipeline.processing.assets import star_schema_tables
    from reveries_pipeline.warehouse.assets import warehouse_tables

    pipeline.etl()
    pipeline.source("UPDATE sales_order SET units_sold = 9, last_updated = now() WHERE sales_order_id IN (1, 2)")
    pipeline.source("UPDATE address SET city = 'Elsewhere', last_updated = now() WHERE address_id = 1")
    pipeline.source("UPDATE payment SET paid = true, last_updated = now() WHERE payment_id = 3")
    pipeline.etl()
    pipeline.source("UPDATE sales_order SET units_sold = 10, last_updated = now() WHERE sales_order_id = 1")
    pipeline.etl()
    incremental = _dump(pipeline)
    raw_before = lake_keys(pipeline.ingestion)

    pipeline.source("UPDATE sales_order SET units_sold = 11, last_updated = now()")  # must NOT be read
    result = materialize(
        [star_schema_tables, warehouse_tables],
        resources=pipeline.resources,
        instance=pipeline.instance,
        run_config={
            "ops": {
                "star_schema_tables": {"config": {"rebuild": True}},
                "warehouse_tables": {"config": {"rebuild": True}},
            }
        },
    )
    assert result.success
    assert lake_keys(pipeline.ingestion) == raw_before  # the lake is untouched
    rebuilt = _dump(pipeline)
    for table in WAREHOUSE_TABLES:
        assert rebuilt[table] == incremental[table], table
    assert pipeline.warehouse("SELECT count(*) FROM fact_sales_order WHERE sales_order_id = 1")[0][0] == 3
