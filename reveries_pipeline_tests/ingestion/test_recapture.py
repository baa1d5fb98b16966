"""Recapturing a raw batch set aside as corrupt: the checkpoint keeps a bounded history of the batches
written (with the range of last_updated each held), and rewinding to one brings its rows back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import psycopg
import pytest

from reveries_pipeline.ingestion import checkpoints as checkpoints_module
from reveries_pipeline.ingestion.checkpoints import BatchRecord, Checkpoint, CheckpointStore
from reveries_pipeline.lake.object_names import batch_key
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline_tests.ingestion.raw_lake import all_rows, batches, read_batch
from reveries_pipeline_tests.ingestion.source_rows import T0, add_sales_order


@pytest.mark.parametrize("bucket_kind", ["local"])
def test_history_records_each_batch_with_the_range_it_held(run_ingestion, ingestion_store, source):
    run_ingestion()
    with psycopg.connect(source) as conn:
        add_sales_order(conn, T0 + timedelta(hours=1))
        add_sales_order(conn, T0 + timedelta(hours=2))
    run_ingestion()
    history = CheckpointStore(ingestion_store).load("sales_order").history
    assert history == [
        BatchRecord(batches(ingestion_store, "sales_order")[0], T0, T0),
        BatchRecord(batches(ingestion_store, "sales_order")[1], T0 + timedelta(hours=1), T0 + timedelta(hours=2)),
    ]


def test_rewind_recaptures_the_rows_of_a_removed_batch(run_ingestion, ingestion_store, source):
    run_ingestion()
    with psycopg.connect(source) as conn:
        lost = [add_sales_order(conn, T0 + timedelta(hours=h)) for h in (1, 2)]
    run_ingestion()
    with psycopg.connect(source) as conn:
        later = add_sales_order(conn, T0 + timedelta(hours=3))
    run_ingestion()
    corrupt = batches(ingestion_store, "sales_order")[1]
    assert sorted(read_batch(ingestion_store, corrupt)["sales_order_id"].to_list()) == lost
    ingestion_store.delete_prefix(corrupt)  # what `reveries quarantine` does after copying it aside

    checkpoints = CheckpointStore(ingestion_store)
    said = checkpoints.rewind_to_recapture("sales_order", corrupt)
    assert corrupt in said and "2024-11-03T15:20:11.123 to 2024-11-03T16:20:11.123" in said
    rewound = checkpoints.load("sales_order")
    assert rewound.high_water_mark == T0 + timedelta(hours=1) and rewound.window == []

    run_ingestion()
    keys = batches(ingestion_store, "sales_order")
    assert corrupt not in keys and keys == sorted(keys)
    recaptured = read_batch(ingestion_store, keys[-1])["sales_order_id"].to_list()
    assert set(lost) <= set(recaptured) and later in recaptured  # duplicates are absorbed downstream
    assert set(all_rows(ingestion_store, "sales_order")["sales_order_id"]) == {1, *lost, later}


def test_rewind_of_a_batch_not_in_the_history_resnapshots(run_ingestion, ingestion_store, source):
    run_ingestion()
    checkpoints = CheckpointStore(ingestion_store)
    before = checkpoints.load("sales_order")
    [first] = batches(ingestion_store, "sales_order")
    # a checkpoint written before the history existed: no history, no recorded schema
    legacy = json.loads(before.to_json())
    del legacy["history"], legacy["source_schema"]
    ingestion_store.put_state(checkpoints.key("sales_order"), json.dumps(legacy).encode())
    assert checkpoints.load("sales_order").history == []

    said = checkpoints.rewind_to_recapture("sales_order", first)
    assert "re-snapshots the whole table" in said
    after = checkpoints.load("sales_order")
    assert after.high_water_mark is None and after.last_batch_key == first  # new keys still sort after it
    run_ingestion()
    keys = batches(ingestion_store, "sales_order")
    assert len(keys) == 2 and read_batch(ingestion_store, keys[1])["sales_order_id"].to_list() == [1]


def test_history_is_bounded_and_kept_in_the_json(monkeypatch):
    monkeypatch.setattr(checkpoints_module, "HISTORY_LIMIT", 3)
    start = datetime(2024, 1, 1)
    checkpoint = Checkpoint("address")
    for i in range(5):
        at = start + timedelta(hours=i)
        checkpoint.record_batch(batch_key("address", at), at, at + timedelta(minutes=5))
    assert [r.low.hour for r in checkpoint.history] == [2, 3, 4]
    assert Checkpoint.from_json(checkpoint.to_json()).history == checkpoint.history


def test_rewind_never_moves_the_mark_forward_and_refuses_foreign_keys(tmp_path):
    store = CheckpointStore(ObjectStore(url=str(tmp_path)))
    at = datetime(2024, 1, 1, 12)
    key = batch_key("address", at)
    checkpoint = Checkpoint("address", high_water_mark=at - timedelta(days=1), window=[(1, at - timedelta(days=1))])
    checkpoint.record_batch(key, at, at)
    store.save(checkpoint)
    store.rewind_to_recapture("address", key)  # already rewound further: only the window goes
    assert store.load("address").high_water_mark == at - timedelta(days=1) and store.load("address").window == []

    store.save(Checkpoint("address", history=checkpoint.history))  # a full snapshot is pending
    store.rewind_to_recapture("address", key)
    assert store.load("address").high_water_mark is None
    with pytest.raises(ValueError, match="not a raw batch key of table 'address'"):
        store.rewind_to_recapture("address", batch_key("staff", at))
