"""Loads that fail midway leave the warehouse as they found it, and say why.

A rebuild empties the warehouse inside its own load transaction, so one that fails midway costs no
row; an unreadable processed object fails the step with the object's bucket and key.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from dagster import Failure

from reveries_pipeline.lake.parquet import read_parquet_object
from reveries_pipeline.resources.object_errors import UnreadableObjectError
from reveries_pipeline.warehouse.schema import LEDGER_TABLE, WAREHOUSE_TABLES
from reveries_pipeline_tests.support import lake_keys

pytestmark = pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)


def _dump(dsn: str) -> dict[str, list[tuple]]:
    # lock_timeout: a failed load's transaction still holding its locks fails here instead of hanging
    with psycopg.connect(dsn, options="-c lock_timeout=5000") as conn:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()  # noqa: S608 - fixed names
            for t in (*WAREHOUSE_TABLES, LEDGER_TABLE)
        }


def _without_load_times(dump: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    return {**dump, LEDGER_TABLE: [row[:3] for row in dump[LEDGER_TABLE]]}


def _corrupt(store, key: str) -> bytes:
    """Replace a local bucket's object with garbage; returns what it held."""
    path = Path(store.url) / key
    original = path.read_bytes()
    path.write_bytes(b"not parquet at all" * 10)
    return original


def test_a_rebuild_that_fails_midway_keeps_every_row_and_a_rebuild_gives_the_same_warehouse(pipeline):
    pipeline.etl()
    pipeline.source("UPDATE sales_order SET units_sold = 9, last_updated = now() WHERE sales_order_id IN (1, 2)")
    pipeline.source("UPDATE payment SET paid = NOT paid, last_updated = now() WHERE payment_id = 3")
    pipeline.etl()
    before = _dump(pipeline.warehouse_dsn)
    assert before["fact_sales_order"] and before["fact_payment"]

    # fact_payment loads last: by then the rebuild has emptied everything and reloaded the rest.
    key = lake_keys(pipeline.processed, "fact_payment/")[-1]
    original = _corrupt(pipeline.processed, key)
    with pytest.raises(Failure, match=key):
        pipeline.load_with(rebuild=True)
    assert _dump(pipeline.warehouse_dsn) == before  # not a row lost, the ledger as it was

    (Path(pipeline.processed.url) / key).write_bytes(original)
    assert pipeline.load_with(rebuild=True).success
    rebuilt = _dump(pipeline.warehouse_dsn)
    assert _without_load_times(rebuilt) == _without_load_times(before)  # record ids restart, same order


def test_an_unreadable_pending_object_fails_the_load_with_its_bucket_and_key(pipeline):
    pipeline.etl()
    before = _dump(pipeline.warehouse_dsn)
    pipeline.source("UPDATE sales_order SET units_sold = 5, last_updated = now() WHERE sales_order_id = 4")
    pipeline.ingest()
    pipeline.process()
    key = lake_keys(pipeline.processed, "fact_sales_order/")[-1]
    _corrupt(pipeline.processed, key)
    with pytest.raises(UnreadableObjectError) as unreadable:
        read_parquet_object(pipeline.processed, key)

    with pytest.raises(Failure) as raised:
        pipeline.load_with()
    assert raised.value.description == str(unreadable.value)  # the reader's message, unchanged
    assert key in raised.value.description and pipeline.processed.url in raised.value.description
    assert _dump(pipeline.warehouse_dsn) == before
