"""Quarantining a lake object: refused for the wrong things, and for the right ones the object moves
under _quarantine/ with its record, and the owning stage recaptures what it held."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from reveries_pipeline.ingestion.checkpoints import Checkpoint, CheckpointStore
from reveries_pipeline.lake.object_names import put_new_batch
from reveries_pipeline.operations.quarantine import QuarantineError, quarantine_object, quarantined, read_error
from reveries_pipeline_tests.support import lake_contents, lake_keys


def _batch(store, table: str, tmp_path: Path, frame: pl.DataFrame | None = None) -> str:
    path = tmp_path / f"{table}.parquet"
    (frame if frame is not None else pl.DataFrame({f"{table}_id": [1, 2]})).write_parquet(path)
    return put_new_batch(store, table, path)


def test_read_error_tells_parquet_from_garbage(tmp_path):
    path = tmp_path / "ok.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(path)
    data = path.read_bytes()
    assert read_error(data) is None
    assert read_error(data[: len(data) // 2]) is not None


def test_refuses_missing_state_and_readable_objects(ingestion_store, tmp_path):
    with pytest.raises(QuarantineError, match="no object"):
        quarantine_object(ingestion_store, "address/2026/01/01/address-20260101T000000000Z.parquet", "ingestion", "x")
    with pytest.raises(QuarantineError, match="pipeline state"):
        quarantine_object(ingestion_store, "_state/ingestion/checkpoints/address.json", "ingestion", "x")
    key = _batch(ingestion_store, "address", tmp_path)
    with pytest.raises(QuarantineError, match="reads fine"):
        quarantine_object(ingestion_store, key, "ingestion", "x")
    assert ingestion_store.get_bytes(key) is not None  # refused means untouched


def test_corrupt_raw_batch_moves_aside_with_its_record(ingestion_store, tmp_path):
    checkpoints = CheckpointStore(ingestion_store)
    checkpoints.save(Checkpoint("address", high_water_mark=datetime(2026, 1, 1)))
    key = _batch(ingestion_store, "address", tmp_path)
    good = ingestion_store.get_bytes(key)
    ingestion_store.delete_prefix(key)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(good[: len(good) // 2])
    ingestion_store.put_new_file(key, broken)

    record = quarantine_object(ingestion_store, key, "ingestion", "truncated upload")
    assert ingestion_store.get_bytes(key) is None
    assert ingestion_store.get_bytes(f"_quarantine/{key}") == good[: len(good) // 2]
    stored = json.loads(ingestion_store.get_bytes(f"_quarantine/{key}.json"))
    assert stored["reason"] == "truncated upload" and stored["read_error"] and stored["key"] == key
    assert record.recapture and [r["key"] for r in quarantined(ingestion_store)] == [key]
    # a batch the checkpoint has no record of: the table is re-snapshotted
    assert checkpoints.load("address").high_water_mark is None


def _corrupt_batch(store, table: str, tmp_path: Path) -> str:
    """A batch of `table` whose bytes are a truncated parquet file."""
    key = _batch(store, table, tmp_path)
    good = store.get_bytes(key)
    store.delete_prefix(key)
    broken = tmp_path / f"broken-{table}.parquet"
    broken.write_bytes(good[: len(good) // 2])
    store.put_new_file(key, broken)
    return key


def _contents(store) -> dict[str, bytes]:
    return lake_contents(store)


def test_bad_keys_are_refused_before_the_bucket_is_touched(ingestion_store, tmp_path):
    """A key must be plainly one batch of this bucket's tables: each of these reaches a real object
    (a checkpoint, a corrupt batch) by another spelling, or is malformed, and must change nothing."""
    CheckpointStore(ingestion_store).save(Checkpoint("address", high_water_mark=datetime(2026, 1, 1)))
    state = "_state/ingestion/checkpoints/address.json"
    key = _corrupt_batch(ingestion_store, "address", tmp_path)
    table, rest = key.split("/", 1)
    before = _contents(ingestion_store)
    bad = [
        f"./{state}",
        f"_rejects/../{state}",
        f"_rejects/../{key}",
        f"./{key}",
        f"{table}/./{rest}",
        f"{table}//{rest}",
        f"{key}/",
        "../x",
        f"../ingestion/{key}",
        "/abs",
        f"/{key}",
        "a//b",
        "",
        "   ",
        f"{key}\x00",
        key.replace("/", "\\"),
        f"{table}\\..\\{state}",
        f"{key}\n",
        f"s3://elsewhere/{key}",
        f"file:///elsewhere/{key}",
        f"_quarantine/{key}",
        state,
        "_rejects/2026/01/01/_rejects-20260101T000000000Z.parquet",  # processed's, not the ingestion bucket's
        "dim_staff/2026/01/01/dim_staff-20260101T000000000Z.parquet",
    ]
    for candidate in bad:
        with pytest.raises(QuarantineError):
            quarantine_object(ingestion_store, candidate, "ingestion", "x", force=True)
        assert _contents(ingestion_store) == before, f"{candidate!r} changed the bucket"


def test_a_key_of_the_other_bucket_is_refused(processed_store, tmp_path):
    key = _corrupt_batch(processed_store, "sales_order", tmp_path)  # a raw table's key in the processed bucket
    with pytest.raises(QuarantineError, match="not a batch of the processed bucket"):
        quarantine_object(processed_store, key, "processed", "x")
    assert processed_store.get_bytes(key) is not None
    assert list(processed_store.list_objects("_quarantine/")) == []


def test_the_objects_full_url_or_path_inside_the_bucket_names_its_key(ingestion_store, tmp_path):
    CheckpointStore(ingestion_store).save(Checkpoint("address", high_water_mark=datetime(2026, 1, 1)))
    key = _corrupt_batch(ingestion_store, "address", tmp_path)
    if ingestion_store.is_s3:
        full = f"{ingestion_store.url}/{key}"
    else:
        full = f"file://{Path(ingestion_store.url).resolve()}/{key}"
    record = quarantine_object(ingestion_store, full, "ingestion", "truncated upload")
    assert record.key == key and record.quarantined_key == f"_quarantine/{key}"
    assert ingestion_store.get_bytes(key) is None
    assert set(lake_keys(ingestion_store, "_quarantine/")) == {
        f"_quarantine/{key}",
        f"_quarantine/{key}.json",
    }


def test_a_rejects_report_is_quarantined_without_a_rewind(processed_store, tmp_path):
    key = _corrupt_batch(processed_store, "_rejects", tmp_path)
    record = quarantine_object(processed_store, key, "processed", "x")
    assert "nothing to recapture" in record.recapture
    assert processed_store.get_bytes(key) is None
    assert lake_keys(processed_store, "_state/") == []
