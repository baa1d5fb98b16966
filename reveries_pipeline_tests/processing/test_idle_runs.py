"""A run with nothing new writes nothing, in either bucket."""

from __future__ import annotations

import os
from pathlib import Path


def snapshot(store) -> dict[str, tuple]:
    """Every object: its bytes and, in a local bucket, the file's identity (a rewrite with the same
    bytes replaces the file, so it shows too)."""
    found = {}
    for o in store.list_objects(""):
        stamp = ()
        if not store.is_s3:
            stat = os.stat(Path(store.url) / o.key)
            stamp = (stat.st_ino, stat.st_mtime_ns)
        found[o.key] = (store.get_bytes(o.key), *stamp)
    return found


def test_runs_without_source_changes_add_remove_and_rewrite_nothing(pipeline):
    pipeline.etl()
    pipeline.source("UPDATE sales_order SET units_sold = 12, last_updated = now() WHERE sales_order_id = 4")
    pipeline.source("UPDATE department SET location = 'Elsewhere', last_updated = now() WHERE department_id = 1")
    pipeline.etl()
    before = {"ingestion": snapshot(pipeline.ingestion), "processed": snapshot(pipeline.processed)}
    assert any(k.startswith("_state/processing/keys/") for k in before["processed"])

    for _ in range(2):
        assert pipeline.etl().success
    after = {"ingestion": snapshot(pipeline.ingestion), "processed": snapshot(pipeline.processed)}
    for bucket in ("ingestion", "processed"):
        assert set(after[bucket]) == set(before[bucket]), bucket
        rewritten = [k for k in before[bucket] if after[bucket][k] != before[bucket][k]]
        assert rewritten == [], bucket
