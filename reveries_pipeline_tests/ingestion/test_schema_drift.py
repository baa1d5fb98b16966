"""Schema drift in the source, made with real ALTER TABLE: what the star schema doesn't need keeps
flowing with faithful types; a needed column dropped or retyped fails its table alone, by name."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline_tests.ingestion.raw_lake import batch_schema, batches, materialized_metadata, read_batch
from reveries_pipeline_tests.ingestion.source_rows import T0, add_sales_order

# Drift is about the source, not the bucket: one (local) bucket is enough.
pytestmark = pytest.mark.parametrize("bucket_kind", ["local"])


def failure_message(result) -> str:
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return failure.step_failure_data.error.message


def retried(result) -> bool:
    return any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def test_added_columns_are_captured_exactly(run_ingestion, ingestion_store, source):
    with psycopg.connect(source) as conn:  # the issue: this used to stop every table
        conn.execute("ALTER TABLE sales_order ADD COLUMN discount_pct numeric DEFAULT 0")
    assert run_ingestion().success
    assert all(len(batches(ingestion_store, t)) == 1 for t in SOURCE_TABLE_NAMES)
    [first] = batches(ingestion_store, "sales_order")
    assert read_batch(ingestion_store, first)["discount_pct"].to_list() == ["0"]

    with psycopg.connect(source) as conn:
        conn.execute(
            "ALTER TABLE sales_order ADD COLUMN extras jsonb, ADD COLUMN ref uuid, ADD COLUMN tags text[],"
            " ADD COLUMN lead_time interval"
        )
        conn.execute(
            "UPDATE sales_order SET discount_pct = 12.3456789012345678901234567890123, extras = %s,"
            " ref = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', tags = '{a,\"b, c\"}', lead_time = '3 days 04:05:06',"
            " last_updated = %s",
            ('{"gift": true, "note": "line\\nbreak"}', T0 + timedelta(hours=1)),
        )
        expected = conn.execute(
            "SELECT discount_pct::text, extras::text, ref::text, tags::text, lead_time::text FROM sales_order"
        ).fetchone()
    result = run_ingestion()
    assert result.success
    second = batches(ingestion_store, "sales_order")[1]
    row = read_batch(ingestion_store, second).row(0, named=True)
    assert (row["discount_pct"], row["extras"], row["ref"], row["tags"], row["lead_time"]) == expected
    assert row["discount_pct"] == "12.3456789012345678901234567890123"  # every digit: never a float

    schema = batch_schema(ingestion_store, second)
    assert schema.field("discount_pct").type == pa.string()
    assert schema.field("discount_pct").metadata[b"postgres_type"] == b"numeric"
    assert schema.field("unit_price").metadata[b"postgres_type"] == b"numeric(10,2)"
    recorded = json.loads(schema.metadata[b"reveries.source_schema"])
    assert recorded["discount_pct"] == "numeric" and recorded["extras"] == "jsonb" and recorded["tags"] == "text[]"
    fingerprints = {batch_schema(ingestion_store, k).metadata[b"reveries.schema_fingerprint"] for k in (first, second)}
    assert len(fingerprints) == 2
    changes = materialized_metadata(result, "sales_order")["schema_changes"]
    assert "added extras jsonb" in changes and "added tags text[]" in changes


def test_widened_types_keep_flowing(run_ingestion, ingestion_store, source):
    run_ingestion()
    with psycopg.connect(source) as conn:
        conn.execute(
            "ALTER TABLE sales_order ALTER COLUMN units_sold TYPE bigint, ALTER COLUMN unit_price TYPE numeric(12,2)"
        )
        conn.execute("ALTER TABLE currency ALTER COLUMN currency_code TYPE text")
        new_id = add_sales_order(conn, T0 + timedelta(hours=1), Decimal("1234567890.12"))
        conn.execute("UPDATE sales_order SET units_sold = 5000000000 WHERE sales_order_id = %s", (new_id,))
        conn.execute("UPDATE currency SET currency_code = 'EURO', last_updated = %s", (T0 + timedelta(hours=1),))
    result = run_ingestion()
    assert result.success

    key = batches(ingestion_store, "sales_order")[1]
    new = read_batch(ingestion_store, key)
    assert new["units_sold"].to_list() == [5_000_000_000] and new["unit_price"].to_list() == [Decimal("1234567890.12")]
    schema = batch_schema(ingestion_store, key)
    assert schema.field("units_sold").type == pa.int64() and schema.field("unit_price").type == pa.decimal128(12, 2)
    assert schema.field("units_sold").metadata[b"postgres_type"] == b"bigint"
    currency = read_batch(ingestion_store, batches(ingestion_store, "currency")[1])
    assert currency["currency_code"].to_list() == ["EURO"]
    assert (
        "units_sold changed type from integer to bigint"
        in materialized_metadata(result, "sales_order")["schema_changes"]
    )
    assert CheckpointStore(ingestion_store).load("currency").source_schema["currency_code"] == "text"


def test_dropped_or_retyped_column_nobody_reads_keeps_flowing(run_ingestion, ingestion_store, source):
    run_ingestion()
    with psycopg.connect(source) as conn:
        conn.execute("ALTER TABLE payment DROP COLUMN company_ac_number")
        conn.execute("ALTER TABLE payment ALTER COLUMN counterparty_ac_number TYPE text")
        conn.execute("UPDATE payment SET last_updated = %s", (T0 + timedelta(hours=1),))
    result = run_ingestion()
    assert result.success
    new = read_batch(ingestion_store, batches(ingestion_store, "payment")[1])
    assert "company_ac_number" not in new.columns and new["counterparty_ac_number"].to_list() == ["31622269"]
    changes = materialized_metadata(result, "payment")["schema_changes"]
    assert "dropped company_ac_number (was integer)" in changes
    assert "counterparty_ac_number changed type from integer to text" in changes


def test_dropped_star_column_fails_its_table_alone(run_ingestion, ingestion_store, source):
    with psycopg.connect(source) as conn:
        conn.execute("ALTER TABLE sales_order DROP COLUMN staff_id")
    result = run_ingestion(raise_on_error=False)
    assert not result.success and not retried(result)  # permanent: no retry
    message = failure_message(result)
    assert "raw/sales_order: column staff_id was dropped (was integer)" in message
    assert "1 of 11 tables failed" in message
    assert batches(ingestion_store, "sales_order") == []
    assert all(len(batches(ingestion_store, t)) == 1 for t in SOURCE_TABLE_NAMES if t != "sales_order")
    assert CheckpointStore(ingestion_store).load("sales_order").high_water_mark is None


def test_retyped_star_column_fails_its_table_alone_naming_old_and_new_type(run_ingestion, ingestion_store, source):
    run_ingestion()
    with psycopg.connect(source) as conn:
        conn.execute("ALTER TABLE sales_order ALTER COLUMN unit_price TYPE text")
        add_sales_order(conn, T0 + timedelta(hours=1), "9.99")
        conn.execute("ALTER TABLE staff ALTER COLUMN first_name TYPE bytea USING first_name::bytea")  # another
        conn.execute("UPDATE address SET last_updated = %s", (T0 + timedelta(hours=1),))
    result = run_ingestion(raise_on_error=False)
    assert not result.success and not retried(result)
    message = failure_message(result)
    assert (
        "raw/sales_order: column unit_price changed type from numeric(10,2) to text; "
        "the star schema reads it as a decimal" in message
    )
    assert "raw/staff: column first_name changed type from text to bytea; the star schema reads it as text" in message
    assert "2 of 11 tables failed (9 captured)" in message
    assert len(batches(ingestion_store, "sales_order")) == 1  # nothing written for the drifted table...
    assert CheckpointStore(ingestion_store).load("sales_order").high_water_mark == T0  # ...nor committed
    assert len(batches(ingestion_store, "address")) == 2  # the others were captured
    assert materialized_metadata(result, "address")["rows"] == 1
