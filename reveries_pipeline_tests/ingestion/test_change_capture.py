"""Change capture on real PostgreSQL, against both a local and an S3 bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import polars as pl
import psycopg
import pytest

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline.lake.object_names import key_time
from reveries_pipeline_tests.ingestion.raw_lake import (
    all_rows,
    batch_schema,
    batches,
    materialized_metadata,
    read_batch,
)
from reveries_pipeline_tests.ingestion.source_rows import T0, add_sales_order


def test_first_run_takes_a_full_snapshot_of_every_table(run_ingestion, ingestion_store):
    started = datetime.now(UTC).replace(microsecond=0)  # key times are whole milliseconds
    result = run_ingestion()
    assert result.success
    for table in SOURCE_TABLE_NAMES:
        keys = batches(ingestion_store, table)
        assert len(keys) == 1, table
        # stamped with when the run wrote it (not the rows' last_updated), under that date's folder
        written = key_time(keys[0])
        assert started <= written <= datetime.now(UTC), (keys[0], started)
        assert keys[0].startswith(f"{table}/{written:%Y/%m/%d}/{table}-"), keys[0]
        meta = materialized_metadata(result, table)
        assert meta["rows"] == 1 and meta["object_key"] == keys[0] and meta["bytes"] > 0
        assert meta["checkpoint_before"].startswith("none")
        assert meta["checkpoint_after"] == "2024-11-03T14:20:11.123"


def test_types_round_trip_exactly(run_ingestion, ingestion_store):
    run_ingestion()
    payment_key = batches(ingestion_store, "payment")[0]
    schema = batch_schema(ingestion_store, payment_key)
    assert str(schema.field("payment_amount").type) == "decimal128(10, 2)"
    assert str(schema.field("last_updated").type) == "timestamp[ms]"
    assert str(schema.field("payment_date").type) == "string"  # text dates stay text in the raw lake
    payment = read_batch(ingestion_store, payment_key)
    assert payment["payment_amount"].to_list() == [Decimal("12345678.91")]
    assert payment["last_updated"].to_list() == [T0]
    assert payment["paid"].to_list() == [False]
    address = read_batch(ingestion_store, batches(ingestion_store, "address")[0])
    assert address["address_line_2"].to_list() == [None] and address["district"].to_list() == [""]
    staff = read_batch(ingestion_store, batches(ingestion_store, "staff")[0])
    assert staff["last_name"].to_list() == ["O'Franey"]
    ptype = read_batch(ingestion_store, batches(ingestion_store, "payment_type")[0])
    assert ptype["payment_type_name"].to_list() == ["SALES_RECEIPT"]  # enum as text


def test_incremental_capture_of_inserts_and_updates(run_ingestion, ingestion_store, source):
    run_ingestion()
    with psycopg.connect(source) as conn:
        new_id = add_sales_order(conn, T0 + timedelta(hours=1))
        conn.execute(
            "UPDATE sales_order SET units_sold = 2000, last_updated = %s WHERE sales_order_id = 1",
            (T0 + timedelta(hours=2),),
        )
    result = run_ingestion()
    keys = batches(ingestion_store, "sales_order")
    assert len(keys) == 2 and keys == sorted(keys)
    second = read_batch(ingestion_store, keys[1])
    assert sorted(second["sales_order_id"].to_list()) == [1, new_id]
    assert second.filter(pl.col("sales_order_id") == 1)["units_sold"].item() == 2000
    # tables without changes write nothing
    assert len(batches(ingestion_store, "address")) == 1
    assert materialized_metadata(result, "address")["rows"] == 0


@pytest.mark.parametrize("bucket_kind", ["local"])  # bucket-agnostic: S3 is covered by the S3 cases of this module
def test_row_in_same_millisecond_as_high_water_mark_is_captured_once(run_ingestion, ingestion_store, source):
    run_ingestion()
    with psycopg.connect(source) as conn:  # commits after the poll, stamped exactly at the mark
        same_ms = add_sales_order(conn, T0)
    run_ingestion()
    run_ingestion()
    rows = all_rows(ingestion_store, "sales_order")
    assert sorted(rows["sales_order_id"].to_list()) == [1, same_ms]


def test_late_commit_inside_lookback_window_is_captured(run_ingestion, ingestion_store, source):
    with psycopg.connect(source) as conn:
        add_sales_order(conn, T0 + timedelta(minutes=30))  # moves the mark to T0+30min
    run_ingestion()
    with psycopg.connect(source) as conn:  # began before the poll, committed after: older than the mark
        late = add_sales_order(conn, T0 + timedelta(minutes=22))
    run_ingestion(lookback_minutes=15)
    keys = batches(ingestion_store, "sales_order")
    assert len(keys) == 2
    assert read_batch(ingestion_store, keys[1])["sales_order_id"].to_list() == [late]


@pytest.mark.parametrize("bucket_kind", ["local"])  # bucket-agnostic: S3 is covered by the S3 cases of this module
def test_lookback_is_configurable(run_ingestion, ingestion_store, source):
    with psycopg.connect(source) as conn:
        add_sales_order(conn, T0 + timedelta(minutes=30))
    run_ingestion()
    with psycopg.connect(source) as conn:
        late = add_sales_order(conn, T0 + timedelta(minutes=5))  # 25 minutes late
    run_ingestion(lookback_minutes=15)
    assert late not in all_rows(ingestion_store, "sales_order")["sales_order_id"].to_list()
    run_ingestion(lookback_minutes=60)
    assert late in all_rows(ingestion_store, "sales_order")["sales_order_id"].to_list()


@pytest.mark.parametrize("bucket_kind", ["local"])  # bucket-agnostic: S3 is covered by the S3 cases of this module
def test_overlapping_windows_emit_no_duplicates(run_ingestion, ingestion_store, source):
    for minutes in (1, 2, 3):
        with psycopg.connect(source) as conn:
            add_sales_order(conn, T0 + timedelta(minutes=minutes))
        run_ingestion(lookback_minutes=15)
    run_ingestion(lookback_minutes=15)
    rows = all_rows(ingestion_store, "sales_order")
    assert rows.height == rows.select("sales_order_id", "last_updated").unique().height == 4
    assert len(batches(ingestion_store, "sales_order")) == 3  # one per run with changes, none when idle


def test_objects_are_never_rewritten(run_ingestion, ingestion_store, source):
    run_ingestion()
    before = {o.key: ingestion_store.get_bytes(o.key) for o in ingestion_store.list_objects("sales_order/")}
    with psycopg.connect(source) as conn:
        add_sales_order(conn, T0 + timedelta(hours=1))
    run_ingestion()
    after = {o.key: ingestion_store.get_bytes(o.key) for o in ingestion_store.list_objects("sales_order/")}
    assert len(after) == len(before) + 1
    assert all(after[k] == v for k, v in before.items())


def test_crash_between_write_and_checkpoint_loses_nothing(run_ingestion, ingestion_store, source, monkeypatch):
    run_ingestion()
    with psycopg.connect(source) as conn:
        new_id = add_sales_order(conn, T0 + timedelta(hours=1))

    def crash(self, checkpoint):
        raise OSError("simulated crash after the batch was written")

    monkeypatch.setattr(CheckpointStore, "save", crash)
    failed = run_ingestion(raise_on_error=False, selection=["raw/sales_order"])
    assert not failed.success  # every retry wrote its batch and then crashed before the checkpoint
    written = len(batches(ingestion_store, "sales_order"))
    assert written >= 2  # the object was written...
    monkeypatch.undo()
    assert CheckpointStore(ingestion_store).load("sales_order").high_water_mark == T0  # ...the mark was not

    run_ingestion(selection=["raw/sales_order"])
    keys = batches(ingestion_store, "sales_order")
    assert len(keys) == written + 1
    assert read_batch(ingestion_store, keys[-1])["sales_order_id"].to_list() == [new_id]  # captured again
    assert CheckpointStore(ingestion_store).load("sales_order").high_water_mark == T0 + timedelta(hours=1)


def test_source_is_opened_read_only(source):
    from reveries_pipeline.resources import PostgresResource

    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        with PostgresResource(dsn=source).connection(read_only=True) as conn:
            conn.execute("DELETE FROM payment")


@pytest.mark.parametrize("bucket_kind", ["local"])  # bucket-agnostic: S3 is covered by the S3 cases of this module
def test_unreachable_source_names_table_and_host_but_not_password(ingestion_store, tmp_path):
    from dagster import materialize

    from reveries_pipeline.ingestion.assets import raw_totesys_tables
    from reveries_pipeline.ingestion.capture_mode import TotesysCapture
    from reveries_pipeline.io_managers.raw_batches import RawBatchIOManager
    from reveries_pipeline.resources import PostgresResource

    dsn = "postgresql://reveries:s3cr3t-pw@127.0.0.1:1/totesys"
    result = materialize(
        [raw_totesys_tables],
        selection=["raw/address"],
        resources={
            "totesys": PostgresResource(dsn=dsn, connect_timeout_s=1),
            "totesys_capture": TotesysCapture(),
            "ingestion_lake": ingestion_store,
            "raw_io_manager": RawBatchIOManager(store=ingestion_store),
        },
        run_config={"ops": {"raw_totesys_tables": {"config": {"lookback_minutes": 15}}}},
        raise_on_error=False,
        tags={"dagster/max_retries": "0"},
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error = failure.step_failure_data.error
    message = error.message + (error.cause.message if error.cause else "")
    assert "raw/address" in message and "127.0.0.1:1" in message
    assert "s3cr3t-pw" not in str(result.all_events)


@pytest.mark.parametrize("bucket_kind", ["local"])
def test_unreachable_source_is_retried_and_skips_the_tables_not_started(ingestion_store):
    from dagster import materialize

    from reveries_pipeline.ingestion.assets import raw_totesys_tables
    from reveries_pipeline.ingestion.capture_mode import TotesysCapture
    from reveries_pipeline.io_managers.raw_batches import RawBatchIOManager
    from reveries_pipeline.resources import PostgresResource

    result = materialize(
        [raw_totesys_tables],
        resources={
            "totesys": PostgresResource(dsn="postgresql://reveries:s3cr3t-pw@127.0.0.1:1/totesys", connect_timeout_s=1),
            "totesys_capture": TotesysCapture(),
            "ingestion_lake": ingestion_store,
            "raw_io_manager": RawBatchIOManager(store=ingestion_store),
        },
        run_config={"ops": {"raw_totesys_tables": {"config": {"lookback_minutes": 15}}}},
        raise_on_error=False,
    )
    assert not result.success
    assert any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)  # transient: retried
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error, message = failure.step_failure_data.error, ""
    while error is not None:  # "Exceeded max_retries", caused by the last attempt's failure
        message, error = message + error.message, error.cause
    assert "11 of 11 tables failed" in message and "reading totesys at postgresql://reveries@127.0.0.1:1" in message
    assert message.count("not attempted") >= 9 - 1  # only those already started wait out the timeout
    assert "s3cr3t-pw" not in str(result.all_events)


def test_every_raw_output_reports_dagster_standard_metadata(run_ingestion, ingestion_store):
    meta = materialized_metadata(run_ingestion(), "payment")
    [key] = batches(ingestion_store, "payment")
    assert meta["dagster/row_count"] == 1
    if ingestion_store.is_s3:
        assert meta["dagster/uri"] == f"{ingestion_store.url}/{key}"
    else:  # a local bucket's URI is the object's file, as a file:// URI (as for processed objects)
        assert meta["dagster/uri"].startswith("file:///") and meta["dagster/uri"].endswith(key)
        assert Path(url2pathname(urlparse(meta["dagster/uri"]).path)).read_bytes() == ingestion_store.get_bytes(key)
    columns = {c.name: c.type for c in meta["dagster/column_schema"].columns}
    assert list(columns) == batch_schema(ingestion_store, key).names
    assert columns["payment_amount"] == "numeric(10,2)" and columns["last_updated"] == "timestamp(3) without time zone"

    idle = materialized_metadata(run_ingestion(), "payment")  # nothing changed: no object, so no URI
    assert idle["dagster/row_count"] == 0 and "dagster/uri" not in idle
    assert idle["dagster/column_schema"] == meta["dagster/column_schema"]


@pytest.mark.parametrize("bucket_kind", ["local"])
def test_each_checkpoint_is_committed_only_once_its_batch_is_stored(run_ingestion, ingestion_store, monkeypatch):
    save = CheckpointStore.save
    stored_at_commit: dict[str, bool] = {}

    def save_noting_the_batch(self, checkpoint):
        stored_at_commit[checkpoint.table] = ingestion_store.get_bytes(checkpoint.last_batch_key) is not None
        save(self, checkpoint)

    monkeypatch.setattr(CheckpointStore, "save", save_noting_the_batch)
    run_ingestion()
    assert stored_at_commit == dict.fromkeys(SOURCE_TABLE_NAMES, True)
