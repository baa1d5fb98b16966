"""raw_batches_sensor: cursor round-trips, run keys, pagination past 1,000 keys, and no run for
raw batches a processing pass (etl_job's, say) has already taken in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from dagster import DagsterRunStatus, SensorResult, SkipReason, build_sensor_context, instance_for_test, job, op

from reveries_pipeline.lake.object_names import batch_key
from reveries_pipeline.processing.sensor import raw_batches_sensor
from reveries_pipeline.processing.state import CHECKPOINT_KEY


def put_batches(store, table, count, start=datetime(2025, 1, 1, tzinfo=UTC)):
    keys = [batch_key(table, start + timedelta(milliseconds=i)) for i in range(count)]
    for key in keys:
        store.put_new_bytes(key, b"x")
    return keys


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


@pytest.fixture
def tick(ingestion_store, processed_store, instance):
    def evaluate(cursor):
        # a context manager: the ObjectStore resources are set up (and torn down) by Dagster
        resources = {"ingestion_lake": ingestion_store, "processed_lake": processed_store}
        with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as ctx:
            return raw_batches_sensor(ctx)

    return evaluate


def test_sensor_cursor_run_keys_and_pagination(ingestion_store, tick):
    assert isinstance(tick(None), SkipReason)

    sales = put_batches(ingestion_store, "sales_order", 1005)  # more than one S3 listing page
    address = put_batches(ingestion_store, "address", 2)
    ingestion_store.put_state("_state/ingestion/checkpoints/address.json", b"{}")  # not a batch
    first = tick(None)
    assert isinstance(first, SensorResult) and len(first.run_requests) == 1
    cursor = json.loads(first.cursor)
    assert cursor == {"sales_order": sales[-1], "address": address[-1]}
    assert first.run_requests[0].tags["reveries/new_raw_batches"] == "1007"

    assert isinstance(tick(first.cursor), SkipReason)  # nothing new: no run

    newer = put_batches(ingestion_store, "sales_order", 1, start=datetime(2025, 1, 2, tzinfo=UTC))
    second = tick(first.cursor)
    assert json.loads(second.cursor)["sales_order"] == newer[0]
    assert json.loads(second.cursor)["address"] == address[-1]
    assert second.run_requests[0].tags["reveries/new_raw_batches"] == "1"
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    # the same new batches give the same run key: a re-evaluated tick launches nothing twice
    assert tick(first.cursor).run_requests[0].run_key == second.run_requests[0].run_key


def test_a_garbled_cursor_starts_from_scratch(ingestion_store, tick):
    put_batches(ingestion_store, "payment", 3)
    result = tick("not json")
    assert result.run_requests[0].tags["reveries/new_raw_batches"] == "3"


def test_batches_already_processed_launch_nothing(ingestion_store, processed_store, tick):
    done = put_batches(ingestion_store, "payment", 3)
    processed_store.put_state(CHECKPOINT_KEY, json.dumps({"last_raw_keys": {"payment": done[-1]}}).encode())
    consumed = tick(None)
    assert not consumed.run_requests and consumed.skip_reason is not None
    assert json.loads(consumed.cursor) == {"payment": done[-1]}  # judged once, not again next tick

    # a batch someone else wrote (a manual ingestion run) still launches processing, for itself only
    other = put_batches(ingestion_store, "payment", 1, start=datetime(2025, 1, 2, tzinfo=UTC))
    result = tick(None)
    assert result.run_requests[0].tags["reveries/new_raw_batches"] == "1"
    assert json.loads(result.cursor) == {"payment": other[0]}


@op
def noop():
    return None


def test_no_run_while_etl_job_runs_and_its_batches_are_judged_afterwards(ingestion_store, instance, tick):
    @job(name="etl_job")
    def etl_job():
        noop()

    running = instance.create_run_for_job(etl_job, status=DagsterRunStatus.STARTED)
    put_batches(ingestion_store, "sales_order", 2)
    waiting = tick(None)
    assert isinstance(waiting, SkipReason) and running.run_id[:8] in waiting.skip_message  # cursor kept
    instance.report_run_failed(running)  # it never processed them: they launch a processing run now
    assert tick(None).run_requests[0].tags["reveries/new_raw_batches"] == "2"
