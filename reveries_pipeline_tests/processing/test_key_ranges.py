"""A pass too large to model at once is modelled a primary-key range at a time (key_ranges.py,
modelling.py), and emits exactly what one pass over the same raw batches emits."""

from __future__ import annotations

import random
from contextlib import ExitStack

import polars as pl
import pytest

from reveries_pipeline.catalog import PROCESSED_TABLE_NAMES
from reveries_pipeline.lake.object_names import put_new_batch
from reveries_pipeline.lake.parquet import read_all_batches
from reveries_pipeline.processing.checks import primary_key_check
from reveries_pipeline.processing.key_ranges import open_large_tables
from reveries_pipeline.processing.pending import read_pending_raw
from reveries_pipeline.processing.schemas import PRIMARY_KEYS
from reveries_pipeline.processing.state import ProcessingStateStore
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline_tests.pipeline_harness import Pipeline, check_results
from reveries_pipeline_tests.processing.raw_rows import payment, raw

LOCAL = pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)

IN_RANGES_OF_40 = {"ops": {"star_schema_tables": {"config": {"rows_per_range": 40}}}}


def _processed(store: ObjectStore) -> dict[str, pl.DataFrame]:
    """Every processed table's rows, in key order (a split pass writes ranges, not input, order)."""
    tables = {}
    for table in PROCESSED_TABLE_NAMES:
        frame = read_all_batches(store, table)
        key = list(PRIMARY_KEYS.get(table, frame.columns[:3] if frame.width else []))
        tables[table] = frame.sort(key) if frame.height else frame
    return tables


def _state(store: ObjectStore) -> dict[str, object]:
    state = ProcessingStateStore(store).load()
    frames = {**state.current, **state.dimension_keys, **{f"held {k}": v for k, v in state.held.items()}}
    passes = [(p.checkpoint_before, p.released_from, p.dim_date) for p in state.passes]
    return {
        "checkpoint": state.checkpoint,
        "passes": passes,
        **{name: frame.sort(frame.columns).rows() for name, frame in frames.items()},
    }


def _source_changes(pipeline: Pipeline) -> None:
    """A second raw batch per changed table: new versions of orders and payments, a re-emitted
    transaction, and a payment whose counterparty no pass has emitted (held back)."""
    pipeline.source(
        "UPDATE sales_order SET units_sold = units_sold + 1, last_updated = now() WHERE sales_order_id % 7 = 0"
    )
    pipeline.source("UPDATE payment SET paid = NOT paid, last_updated = now() WHERE payment_id % 9 = 0")
    pipeline.source("UPDATE transaction SET last_updated = now() WHERE transaction_id % 5 = 0")
    pipeline.source(
        "SET session_replication_role = replica; "  # no foreign-key triggers: the orphan totesys would refuse
        "UPDATE payment SET counterparty_id = 999999, last_updated = now() WHERE payment_id = 11"
    )


@LOCAL
def test_a_pass_split_into_key_ranges_emits_what_one_pass_emits(pipeline, make_bucket_url):
    pipeline.ingest()
    _source_changes(pipeline)
    pipeline.ingest()  # two raw batches per changed table, modelled by one pass
    split = Pipeline(
        pipeline.totesys_dsn, pipeline.warehouse_dsn, pipeline.ingestion, ObjectStore(url=make_bucket_url("split"))
    )

    whole_run = pipeline.process()
    split_run = split.process(run_config=IN_RANGES_OF_40)

    logs = [entry.user_message for entry in split.instance.all_logs(split_run.run_id)]
    assert any("key-range parts" in message for message in logs)  # it was split
    whole, in_ranges = _processed(pipeline.processed), _processed(split.processed)
    assert whole["fact_payment"].height > 40 * 5 and whole["dim_transaction"].height > 40 * 5
    for table in PROCESSED_TABLE_NAMES:
        assert in_ranges[table].equals(whole[table]), table
    assert _state(split.processed) == _state(pipeline.processed)
    held = ("processed/fact_payment", "no_held_back_facts")
    assert not check_results(split_run)[held].passed and not check_results(whole_run)[held].passed


@pytest.mark.parametrize("bucket_kind", ["local", "s3"], indirect=True)
def test_a_split_dimension_comes_out_sorted_by_key(pipeline):
    """On S3 each large raw batch is read from a local copy kept for the whole pass."""
    pipeline.ingest()
    pipeline.process(run_config=IN_RANGES_OF_40)
    transactions = read_all_batches(pipeline.processed, "dim_transaction").get_column("transaction_id")
    assert transactions.len() > 40 * 5 and transactions.is_sorted()


@LOCAL
def test_every_row_falls_in_exactly_one_key_range(ingestion_store, tmp_path):
    """Keys out of order across row groups, a null key, and a row group without statistics: the
    ranges together hold every row once."""
    rows = [payment(i) for i in random.Random(7).sample(range(1, 400), 300)]
    rows[17]["payment_id"] = None
    frame = raw("payment", rows).drop("_source_key")
    frame.head(200).write_parquet(tmp_path / "stated.parquet", row_group_size=25, statistics=True)
    frame.tail(100).write_parquet(tmp_path / "unstated.parquet", statistics=False)
    first = put_new_batch(ingestion_store, "payment", tmp_path / "stated.parquet")
    put_new_batch(ingestion_store, "payment", tmp_path / "unstated.parquet", first)
    pending = read_pending_raw(ingestion_store, {})

    with ExitStack() as stack:
        reader = open_large_tables(pending, rows_per_range=10, stack=stack)["payment"]
        ranges = [reader.read(i) for i in range(reader.ranges)]

    assert len(ranges) >= 5
    whole = pending.read_table("payment")
    assert pl.concat(ranges).sort("payment_id", nulls_last=True).equals(whole.sort("payment_id", nulls_last=True))
    highest = None
    for found in ranges:  # ascending and disjoint
        keys = found.get_column("payment_id").drop_nulls()
        if keys.len():
            assert highest is None or keys.min() > highest
            highest = keys.max()


def test_a_spooled_dimension_with_a_repeated_key_fails_primary_key_unique():
    """A spooled dimension is sorted by key, and checked by neighbours: repeats are still found."""
    spooled = pl.LazyFrame({"design_id": [1, 2, 2, 3, 5, 5, 5, 8]}, schema={"design_id": pl.Int32})

    check = primary_key_check("dim_design", spooled)

    assert not check.passed
    assert check.metadata["rows_checked"].value == 8 and check.metadata["duplicate_keys"].value == 2
    assert check.metadata["examples"].value.splitlines()[:2] == ["(2, 2)", "(5, 3)"]
