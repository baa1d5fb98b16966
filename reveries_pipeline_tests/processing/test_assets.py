"""The processing stage on real PostgreSQL and real buckets (local and S3)."""

from __future__ import annotations

import io

import polars as pl
import pyarrow.parquet as pq

from reveries_pipeline.asset_keys import processed_key
from reveries_pipeline.catalog import STAR_TABLE_NAMES
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.parquet import read_parquet_object
from reveries_pipeline.processing.schemas import TARGET_SCHEMAS
from reveries_pipeline_tests.pipeline_harness import check_results


def objects(store, table):
    return [o.key for o in new_batches(store, table, None)]


def latest(store, table) -> pl.DataFrame:
    return read_parquet_object(store, objects(store, table)[-1])


def output_metadata(result, table):
    [mat] = [
        m for m in result.asset_materializations_for_node("star_schema_tables") if m.asset_key == processed_key(table)
    ]
    return {k: v.value for k, v in mat.metadata.items()}


def test_all_eleven_tables_have_the_exact_columns_and_types(pipeline):
    pipeline.ingest()
    result = pipeline.process()
    for table in STAR_TABLE_NAMES:
        [key] = objects(pipeline.processed, table)
        assert key.startswith(f"{table}/") and key.endswith(".parquet")
        frame = read_parquet_object(pipeline.processed, key)
        assert frame.schema == TARGET_SCHEMAS[table], table
        assert frame.height > 0
        metadata = output_metadata(result, table)
        assert metadata["object_key"] == key and metadata["dagster/uri"].endswith(key)
        assert metadata["dagster/row_count"] == frame.height
        assert [c.name for c in metadata["dagster/column_schema"].columns] == TARGET_SCHEMAS[table].names()
    sales = latest(pipeline.processed, "fact_sales_order")
    assert "sales_record_id" not in sales.columns
    assert sales.height == pipeline.source("SELECT count(*) FROM sales_order")[0][0]
    schema = pq.read_schema(io.BytesIO(pipeline.processed.get_bytes(objects(pipeline.processed, "fact_payment")[0])))
    assert str(schema.field("payment_amount").type) == "decimal128(10, 2)"
    assert all(c.passed for c in check_results(result).values())


def test_updated_order_gives_a_second_fact_row_and_only_new_batches_are_read(pipeline):
    pipeline.ingest()
    pipeline.process()
    pipeline.source("UPDATE sales_order SET units_sold = 4242, last_updated = now() WHERE sales_order_id = 3")
    pipeline.ingest()
    result = pipeline.process()
    assert output_metadata(result, "fact_sales_order")["raw_batches_read"] == 1  # only the new batch
    history = pl.concat(
        [read_parquet_object(pipeline.processed, k) for k in objects(pipeline.processed, "fact_sales_order")]
    )
    versions = history.filter(pl.col("sales_order_id") == 3)
    assert versions.height == 2 and 4242 in versions["units_sold"].to_list()
    assert latest(pipeline.processed, "fact_sales_order").height == 1
    # no dimension changed, so no dimension object was written
    assert len(objects(pipeline.processed, "dim_staff")) == 1
    assert output_metadata(result, "dim_staff")["rows"] == 0
    assert output_metadata(result, "dim_staff")["dagster/row_count"] == 0


def test_dimension_change_arriving_only_through_a_joined_table(pipeline):
    pipeline.ingest()
    pipeline.process()
    address_id = pipeline.source("SELECT legal_address_id FROM counterparty ORDER BY counterparty_id LIMIT 1")[0][0]
    on_address = {
        r[0]
        for r in pipeline.source("SELECT counterparty_id FROM counterparty WHERE legal_address_id = %s", (address_id,))
    }
    pipeline.source(
        "UPDATE address SET city = 'Reveriesville', last_updated = now() WHERE address_id = %s", (address_id,)
    )
    dept = pipeline.source("SELECT department_id FROM staff ORDER BY staff_id LIMIT 1")[0][0]
    staff_in_dept = {r[0] for r in pipeline.source("SELECT staff_id FROM staff WHERE department_id = %s", (dept,))}
    pipeline.source(
        "UPDATE department SET location = 'Leeds Dock', last_updated = now() WHERE department_id = %s", (dept,)
    )
    pipeline.ingest()
    pipeline.process()
    counterparties = latest(pipeline.processed, "dim_counterparty")
    assert set(counterparties["counterparty_id"].to_list()) == on_address
    assert set(counterparties["counterparty_legal_city"].to_list()) == {"Reveriesville"}
    staff = latest(pipeline.processed, "dim_staff")
    assert set(staff["staff_id"].to_list()) == staff_in_dept
    assert set(staff["location"].to_list()) == {"Leeds Dock"}
    assert latest(pipeline.processed, "dim_location")["location_id"].to_list() == [address_id]


def test_bad_row_goes_to_rejects_and_a_check_names_it(pipeline):
    pipeline.ingest()
    pipeline.process()
    bad_id = pipeline.source(
        "INSERT INTO sales_order (design_id, staff_id, counterparty_id, units_sold, unit_price, currency_id,"
        " agreed_delivery_date, agreed_payment_date, agreed_delivery_location_id, last_updated)"
        " SELECT design_id, staff_id, counterparty_id, 5, 2.50, currency_id, 'not a date', agreed_payment_date,"
        " agreed_delivery_location_id, now() FROM sales_order WHERE sales_order_id = 1 RETURNING sales_order_id"
    )[0][0]
    good_id = pipeline.source(
        "INSERT INTO sales_order (design_id, staff_id, counterparty_id, units_sold, unit_price, currency_id,"
        " agreed_delivery_date, agreed_payment_date, agreed_delivery_location_id, last_updated)"
        " SELECT design_id, staff_id, counterparty_id, 6, 2.50, currency_id, agreed_delivery_date,"
        " agreed_payment_date, agreed_delivery_location_id, now() FROM sales_order WHERE sales_order_id = 1"
        " RETURNING sales_order_id"
    )[0][0]
    pipeline.ingest()
    result = pipeline.process()
    assert latest(pipeline.processed, "fact_sales_order")["sales_order_id"].to_list() == [good_id]
    [rejects_key] = objects(pipeline.processed, "_rejects")
    rejects = read_parquet_object(pipeline.processed, rejects_key)
    assert rejects["primary_key"].to_list() == [bad_id]
    assert "not a date" in rejects["reason"][0] and rejects["source_key"][0].startswith("sales_order/")
    check = check_results(result)[("processed/fact_sales_order", "no_rejected_rows")]
    assert not check.passed
    assert f"id={bad_id}" in check.metadata["rejected"].value and rejects_key in check.description


def test_unknown_currency_never_blocks_and_a_check_names_it(pipeline):
    pipeline.source("INSERT INTO currency (currency_code, last_updated) VALUES ('XYZ', now())")
    pipeline.ingest()
    result = pipeline.process()
    currencies = latest(pipeline.processed, "dim_currency")
    assert "XYZ" in currencies["currency_code"].to_list()
    assert set(currencies.filter(pl.col("currency_code") == "GBP")["currency_name"]) == {"Pound Sterling"}
    check = check_results(result)[("processed/dim_currency", "currency_codes_known")]
    assert not check.passed and "XYZ" in check.description


def test_catch_up_processes_every_batch_pending_since_its_checkpoint(pipeline):
    pipeline.ingest()
    pipeline.process()
    pipeline.source("UPDATE sales_order SET units_sold = 1, last_updated = now() WHERE sales_order_id = 1")
    pipeline.ingest()  # a sensor tick for this batch is lost...
    pipeline.source("UPDATE sales_order SET units_sold = 2, last_updated = now() WHERE sales_order_id = 2")
    pipeline.ingest()
    result = pipeline.process()  # ...the next run catches up on both batches
    assert output_metadata(result, "fact_sales_order")["raw_batches_read"] == 2
    assert sorted(latest(pipeline.processed, "fact_sales_order")["sales_order_id"].to_list()) == [1, 2]
    again = pipeline.process()
    assert output_metadata(again, "fact_sales_order")["raw_batches_read"] == 0


def test_fact_with_an_unknown_dimension_key_is_held_back_until_the_key_arrives(pipeline):
    pipeline.ingest()
    pipeline.process()
    # a sales order pointing at a design the processed dimension has never seen
    pipeline.source("ALTER TABLE sales_order DROP CONSTRAINT sales_order_design_id_fkey")
    pipeline.source("UPDATE sales_order SET design_id = 99999, last_updated = now() WHERE sales_order_id IN (1, 2)")
    pipeline.source("UPDATE sales_order SET units_sold = 3, last_updated = now() WHERE sales_order_id = 3")
    pipeline.ingest()
    result = pipeline.process()
    assert latest(pipeline.processed, "fact_sales_order")["sales_order_id"].to_list() == [3]  # the rest goes on
    check = check_results(result)[("processed/fact_sales_order", "no_held_back_facts")]
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["held"].value == {"design_id 99999 (dim_design)": [1, 2]}
    assert "sales_order_id 1, 2" in check.description
    emitted_before = objects(pipeline.processed, "fact_sales_order")

    pipeline.source(
        "INSERT INTO design (design_id, design_name, file_location, file_name, last_updated)"
        " VALUES (99999, 'late', '/designs', 'late.json', now())"
    )
    pipeline.ingest()
    result = pipeline.process()
    released = latest(pipeline.processed, "fact_sales_order")
    assert len(objects(pipeline.processed, "fact_sales_order")) == len(emitted_before) + 1
    assert sorted(released["sales_order_id"].to_list()) == [1, 2] and set(released["design_id"]) == {99999}
    # released with the version they were captured as
    captured = pipeline.source(
        "SELECT sales_order_id, last_updated::date, last_updated::time FROM sales_order WHERE sales_order_id IN (1, 2)"
    )
    versions = released.select("sales_order_id", "last_updated_date", "last_updated_time").rows()
    assert sorted(versions) == sorted(captured)
    assert check_results(result)[("processed/fact_sales_order", "no_held_back_facts")].passed
