"""Quarantining a lake object: refused for the wrong things, and for the right ones the object moves
under _quarantine/ with its record, and the owning stage recaptures what it held."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from reveries_pipeline.ingestion.checkpoints import Checkpoint, CheckpointStore
from reveries_pipeline.lake.batch_keys import put_new_batch
from reveries_pipeline.operations.quarantine import QuarantineError, quarantine_object, quarantined, read_error


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
