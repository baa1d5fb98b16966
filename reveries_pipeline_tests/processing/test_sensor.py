"""ingestion_bucket_sensor: cursor round-trips, run keys, pagination past 1,000 keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from dagster import SensorResult, SkipReason, build_sensor_context

from reveries_pipeline.lake.batch_keys import batch_key
from reveries_pipeline.processing.sensor import ingestion_bucket_sensor


def put_batches(store, table, count, start=datetime(2025, 1, 1, tzinfo=UTC)):
    keys = [batch_key(table, start + timedelta(milliseconds=i)) for i in range(count)]
    for key in keys:
        store.put_new_bytes(key, b"x")
    return keys


def tick(store, cursor):
    # a context manager: the ObjectStore resource is set up (and torn down) by Dagster
    with build_sensor_context(cursor=cursor, resources={"ingestion_lake": store}) as ctx:
        return ingestion_bucket_sensor(ctx)


def test_sensor_cursor_run_keys_and_pagination(ingestion_store):
    assert isinstance(tick(ingestion_store, None), SkipReason)

    sales = put_batches(ingestion_store, "sales_order", 1005)  # more than one S3 listing page
    address = put_batches(ingestion_store, "address", 2)
    ingestion_store.put_state("_state/ingestion/checkpoints/address.json", b"{}")  # not a batch
    first = tick(ingestion_store, None)
    assert isinstance(first, SensorResult) and len(first.run_requests) == 1
    cursor = json.loads(first.cursor)
    assert cursor == {"sales_order": sales[-1], "address": address[-1]}
    assert first.run_requests[0].tags["reveries/new_raw_batches"] == "1007"

    assert isinstance(tick(ingestion_store, first.cursor), SkipReason)  # nothing new: no run

    newer = put_batches(ingestion_store, "sales_order", 1, start=datetime(2025, 1, 2, tzinfo=UTC))
    second = tick(ingestion_store, first.cursor)
    assert json.loads(second.cursor)["sales_order"] == newer[0]
    assert json.loads(second.cursor)["address"] == address[-1]
    assert second.run_requests[0].tags["reveries/new_raw_batches"] == "1"
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    # the same new batches give the same run key: a re-evaluated tick launches nothing twice
    assert tick(ingestion_store, first.cursor).run_requests[0].run_key == second.run_requests[0].run_key


def test_a_garbled_cursor_starts_from_scratch(ingestion_store):
    put_batches(ingestion_store, "payment", 3)
    result = tick(ingestion_store, "not json")
    assert result.run_requests[0].tags["reveries/new_raw_batches"] == "3"
