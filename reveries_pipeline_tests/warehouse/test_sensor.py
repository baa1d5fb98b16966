"""processed_batches_sensor: the same cursor, run-key and catch-up rules as raw_batches_sensor, and no
run for processed batches already in the warehouse's load ledger (loaded by etl_job, say)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from dagster import SensorResult, SkipReason, build_sensor_context, instance_for_test

from reveries_pipeline.jobs import warehouse_job
from reveries_pipeline.lake.object_names import batch_key
from reveries_pipeline.resources import PostgresResource
from reveries_pipeline.warehouse.ledger import record_batches
from reveries_pipeline.warehouse.schema import ensure_warehouse_schema
from reveries_pipeline.warehouse.sensor import processed_batches_sensor

START = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def tick(processed_store, warehouse_dsn):
    def evaluate(cursor):
        # Entered: Dagster builds ObjectStore (it nests dagster-aws's S3Resource) as a context-managed resource.
        resources = {"processed_lake": processed_store, "warehouse": PostgresResource(dsn=warehouse_dsn)}
        with (
            instance_for_test() as instance,
            build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context,
        ):
            return processed_batches_sensor(context)

    return evaluate


def put_fact_batches(store, count, start=START):
    keys = [batch_key("fact_payment", start + timedelta(milliseconds=i)) for i in range(count)]
    for key in keys:
        store.put_new_bytes(key, b"x")
    return keys


def test_processed_sensor_launches_warehouse_job_for_new_batches_only(processed_store, tick):
    assert processed_batches_sensor.job_name == warehouse_job.name
    assert isinstance(tick(None), SkipReason)
    keys = put_fact_batches(processed_store, 3)
    processed_store.put_new_bytes(batch_key("_rejects", START), b"x")  # not a warehouse table
    processed_store.put_state("_state/processing/checkpoint.json", b"{}")
    first = tick(None)  # the warehouse has no ledger yet: nothing is loaded
    assert isinstance(first, SensorResult)
    assert json.loads(first.cursor) == {"fact_payment": keys[-1]}
    assert first.run_requests[0].tags["reveries/new_processed_batches"] == "3"
    assert isinstance(tick(first.cursor), SkipReason)


def test_batches_already_in_the_load_ledger_launch_nothing(processed_store, warehouse_dsn, tick):
    keys = put_fact_batches(processed_store, 3)
    with psycopg.connect(warehouse_dsn) as conn:
        ensure_warehouse_schema(conn)
        record_batches(conn, "fact_payment", [(key, 1) for key in keys[:2]])
    partly = tick(None)
    assert partly.run_requests[0].tags["reveries/new_processed_batches"] == "1"  # the one not loaded
    with psycopg.connect(warehouse_dsn) as conn:
        record_batches(conn, "fact_payment", [(keys[2], 1)])
    loaded = tick(None)
    assert not loaded.run_requests and loaded.skip_reason is not None
    assert json.loads(loaded.cursor) == {"fact_payment": keys[-1]}
