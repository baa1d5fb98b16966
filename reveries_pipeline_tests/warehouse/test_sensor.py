"""processed_bucket_sensor: the same cursor, run-key and catch-up rules as the ingestion sensor."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from dagster import SensorResult, SkipReason, build_sensor_context

from reveries_pipeline.lake.batch_keys import batch_key
from reveries_pipeline.warehouse.sensor import processed_bucket_sensor, warehouse_job


def tick(store, cursor):
    # Entered: Dagster builds ObjectStore (it nests dagster-aws's S3Resource) as a context-managed resource.
    with build_sensor_context(cursor=cursor, resources={"processed_lake": store}) as context:
        return processed_bucket_sensor(context)


def test_processed_sensor_launches_warehouse_job_for_new_batches_only(processed_store):
    assert processed_bucket_sensor.job_name == warehouse_job.name
    assert isinstance(tick(processed_store, None), SkipReason)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    keys = [batch_key("fact_payment", start + timedelta(milliseconds=i)) for i in range(3)]
    for key in keys:
        processed_store.put_new_bytes(key, b"x")
    processed_store.put_new_bytes(batch_key("_rejects", start), b"x")  # not a warehouse table
    processed_store.put_state("_state/processing/checkpoint.json", b"{}")
    first = tick(processed_store, None)
    assert isinstance(first, SensorResult)
    assert json.loads(first.cursor) == {"fact_payment": keys[-1]}
    assert first.run_requests[0].tags["reveries/new_processed_batches"] == "3"
    assert isinstance(tick(processed_store, first.cursor), SkipReason)
