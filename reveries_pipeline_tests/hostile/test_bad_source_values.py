"""Bad source values: each is kept out of the warehouse and named, while an ordinary change made beside
it arrives, and nothing is captured twice or lost.

Each case starts from a loaded world (worlds.py), breaks one thing at the source, runs the whole
pipeline in process (with the real IO managers and resources), then changes an ordinary row and runs
again: the later change must arrive too.
"""

from __future__ import annotations

import datetime
import uuid
from typing import NamedTuple

import polars as pl
import pytest
from dagster import AssetCheckSeverity

from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline.ingestion.logical import LogicalCaptureSettings, drop_sql
from reveries_pipeline.processing.derived_state import REJECTS_PREFIX
from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source
from reveries_pipeline_tests.ingestion.raw_lake import all_rows, read_batch
from reveries_pipeline_tests.pipeline_harness import Pipeline, check_results
from reveries_pipeline_tests.support import lake_keys

pytestmark = pytest.mark.hostile


def _pipeline(world) -> Pipeline:
    return Pipeline(world.totesys_dsn, world.warehouse_dsn, world.ingestion, world.processed)


def _ordinary_change(world, order_id: int, units: int) -> None:
    world.source(
        "UPDATE sales_order SET units_sold = %s, last_updated = localtimestamp WHERE sales_order_id = %s",
        (units, order_id),
    )


def _orders(world, count: int) -> list[int]:
    return [r[0] for r in world.source("SELECT sales_order_id FROM sales_order ORDER BY 1 LIMIT %s", (count,))]


def _rejects(world) -> pl.DataFrame:
    keys = lake_keys(world.processed, REJECTS_PREFIX)
    assert keys, "nothing was rejected"
    return pl.concat([read_batch(world.processed, k) for k in keys])


def _reason(rejects: pl.DataFrame, table: str, pk: int) -> str:
    mine = rejects.filter((pl.col("table") == table) & (pl.col("primary_key") == pk))
    assert mine.height, f"{table} {pk} was not rejected"
    return "; ".join(mine["reason"].unique().to_list())


def _units_in_warehouse(world, order_id: int) -> int:
    return world.warehouse("SELECT units_sold FROM fact_sales_order_current WHERE sales_order_id = %s", (order_id,))[0][
        0
    ]


def test_a_row_dated_2999_neither_hides_later_changes_nor_comes_twice(world):
    future, ordinary, later = _orders(world, 3)
    world.source("UPDATE sales_order SET last_updated = '2999-01-01 00:00:00' WHERE sales_order_id = %s", (future,))
    _ordinary_change(world, ordinary, 4242)
    pipeline = _pipeline(world)
    first = pipeline.etl(raise_on_error=False)
    assert first.success

    check = check_results(first)[("raw/sales_order", "no_future_dated_rows")]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert check.metadata["future_dated_rows"].value == 1
    assert check.metadata["rows"].value == [{"sales_order_id": future, "last_updated": "2999-01-01 00:00:00.000"}]
    (clock,) = world.source("SELECT localtimestamp")[0]
    mark = CheckpointStore(world.ingestion).load("sales_order").high_water_mark
    assert mark <= clock + datetime.timedelta(minutes=5), f"the mark followed the future row to {mark}"

    _ordinary_change(world, later, 4343)  # made after the future row was captured
    second = pipeline.etl(raise_on_error=False)
    assert second.success
    assert _units_in_warehouse(world, ordinary) == 4242
    assert _units_in_warehouse(world, later) == 4343, "a change made after the 2999 row was never captured"
    captured = all_rows(world.ingestion, "sales_order").filter(pl.col("sales_order_id") == future)
    assert captured.filter(pl.col("last_updated").dt.year() == 2999).height == 1, "captured more than once"
    assert "outside the business date window" in _reason(_rejects(world), "sales_order", future)
    (top,) = world.warehouse("SELECT max(date_id) FROM dim_date")[0]
    assert top.year < 2999
    assert_warehouse_matches_source(world, excluded={("sales_order", future)})

    # fixed at the source: the row loads, and the check clears
    world.source("UPDATE sales_order SET last_updated = localtimestamp WHERE sales_order_id = %s", (future,))
    third = pipeline.etl(raise_on_error=False)
    assert third.success and check_results(third)[("raw/sales_order", "no_future_dated_rows")].passed
    assert_warehouse_matches_source(world)


def test_a_checkpoint_already_past_the_source_clock_is_moved_back(world):
    """Marks written before marks were capped: the next capture repairs them and misses nothing."""
    store = CheckpointStore(world.ingestion)
    stuck = store.load("sales_order")
    store.save(stuck.__class__(**{**stuck.__dict__, "high_water_mark": datetime.datetime(2999, 1, 1)}))
    (order,) = _orders(world, 1)
    _ordinary_change(world, order, 5151)
    assert _pipeline(world).etl(raise_on_error=False).success
    assert _units_in_warehouse(world, order) == 5151
    assert store.load("sales_order").high_water_mark.year < 2999


@pytest.mark.parametrize(
    "bad_date", ["+12345-01-01", "0000-01-01", "-0044-03-15", "0001-01-01", "9999-12-31", "1899-12-31"]
)
def test_a_text_date_outside_the_business_window_is_rejected_with_its_row_only(world, bad_date):
    bad, ordinary = _orders(world, 2)
    world.source(
        "UPDATE sales_order SET agreed_delivery_date = %s, last_updated = localtimestamp WHERE sales_order_id = %s",
        (bad_date, bad),
    )
    _ordinary_change(world, ordinary, 777)
    result = _pipeline(world).etl(raise_on_error=False)
    assert result.success
    reason = _reason(_rejects(world), "sales_order", bad)
    assert f"agreed_delivery_date: '{bad_date}' is outside the business date window 1900-01-01..2100-12-31" in reason
    assert not check_results(result)[("processed/fact_sales_order", "no_rejected_rows")].passed
    assert _units_in_warehouse(world, ordinary) == 777
    (low, high, days) = world.warehouse("SELECT min(date_id), max(date_id), count(*) FROM dim_date")[0]
    assert low.year >= 1900 and high.year <= 2100 and days < 20_000, "dim_date was stretched"
    assert_warehouse_matches_source(world, excluded={("sales_order", bad)})


@pytest.fixture
def logical_capture(world):
    """A capture resource in logical mode on a slot of its own, dropped afterwards (slots are
    cluster-wide, and a database with one can't be dropped)."""
    suffix = uuid.uuid4().hex[:10]
    capture = TotesysCapture(mode="logical", publication=f"pub_{suffix}", slot=f"slot_{suffix}")
    yield capture
    world.source(drop_sql(LogicalCaptureSettings(capture.publication, capture.slot)))


class _Unexact(NamedTuple):
    """The rows given a value with no exact Arrow value, one per kind of value."""

    nan_payment: int  # payment_amount NaN
    inf_payment: int  # last_updated infinity
    minus_inf_order: int  # created_at -infinity
    bc_order: int  # created_at in 44 BC
    bc_purchase: int  # created_at in 44 BC, with a time of day


def _pick_unexact_rows(world) -> _Unexact:
    (nan_payment, inf_payment) = [r[0] for r in world.source("SELECT payment_id FROM payment ORDER BY 1 LIMIT 2")]
    minus_inf_order, bc_order = _orders(world, 2)
    (bc_purchase,) = world.source("SELECT min(purchase_order_id) FROM purchase_order")[0]
    return _Unexact(nan_payment, inf_payment, minus_inf_order, bc_order, bc_purchase)


STAMP = "last_updated = localtimestamp"


def _give_values_with_no_exact_value(world, rows: _Unexact) -> None:
    world.source(f"UPDATE payment SET payment_amount = 'NaN', {STAMP} WHERE payment_id = %s", (rows.nan_payment,))  # noqa: S608
    world.source("UPDATE payment SET last_updated = 'infinity' WHERE payment_id = %s", (rows.inf_payment,))
    world.source(
        f"UPDATE sales_order SET created_at = '-infinity', {STAMP} WHERE sales_order_id = %s", (rows.minus_inf_order,)
    )  # noqa: S608
    world.source(
        f"UPDATE sales_order SET created_at = '0044-03-15 BC', {STAMP} WHERE sales_order_id = %s", (rows.bc_order,)
    )  # noqa: S608
    world.source(
        f"UPDATE purchase_order SET created_at = '0044-03-15 10:00 BC', {STAMP} WHERE purchase_order_id = %s",  # noqa: S608
        (rows.bc_purchase,),
    )


def _fix_them_at_the_source(world, rows: _Unexact) -> None:
    world.source(
        f"UPDATE payment SET payment_amount = 1, {STAMP} WHERE payment_id IN (%s, %s)",
        (rows.nan_payment, rows.inf_payment),
    )  # noqa: S608
    world.source(
        f"UPDATE sales_order SET created_at = localtimestamp, {STAMP} WHERE sales_order_id IN (%s, %s)",
        (rows.minus_inf_order, rows.bc_order),
    )  # noqa: S608
    world.source(
        f"UPDATE purchase_order SET created_at = localtimestamp, {STAMP} WHERE purchase_order_id = %s",
        (rows.bc_purchase,),
    )  # noqa: S608


@pytest.mark.parametrize("mode", ["poll", "logical"])
def test_values_with_no_exact_arrow_value_reject_their_row_and_the_table_moves_on(world, mode, request):
    """NaN in numeric(10,2), -infinity and BC timestamps, and an infinite last_updated, read by COPY
    (poll) or decoded from the WAL (logical, whose first run snapshots every table)."""
    capture = request.getfixturevalue("logical_capture") if mode == "logical" else TotesysCapture()
    pipeline = Pipeline(world.totesys_dsn, world.warehouse_dsn, world.ingestion, world.processed, capture)
    if mode == "logical":
        assert pipeline.etl().success
    rows = _pick_unexact_rows(world)
    ordinary = _orders(world, 3)[-1]  # the order after the two broken ones
    _give_values_with_no_exact_value(world, rows)
    _ordinary_change(world, ordinary, 999)
    assert pipeline.etl(raise_on_error=False).success

    rejects = _rejects(world)
    assert "payment_amount: source value 'NaN' has no exact value" in _reason(rejects, "payment", rows.nan_payment)
    assert "last_updated: source value 'infinity' has no exact value" in _reason(rejects, "payment", rows.inf_payment)
    assert "created_at: source value '-infinity'" in _reason(rejects, "sales_order", rows.minus_inf_order)
    assert "created_at: source value '0044-03-15 00:00:00 BC'" in _reason(rejects, "sales_order", rows.bc_order)
    assert "created_at: source value '0044-03-15 10:00:00 BC'" in _reason(rejects, "purchase_order", rows.bc_purchase)
    assert _units_in_warehouse(world, ordinary) == 999
    raw = all_rows(world.ingestion, "payment").filter(pl.col("payment_id") == rows.nan_payment)
    assert raw["_unrepresentable"].to_list()[-1] == '{"payment_amount": "NaN"}'  # the exact text is kept

    # the infinite last_updated is read by every capture, and captured once
    _ordinary_change(world, ordinary, 1000)
    assert pipeline.etl(raise_on_error=False).success
    assert _units_in_warehouse(world, ordinary) == 1000
    infinite = all_rows(world.ingestion, "payment").filter(pl.col("payment_id") == rows.inf_payment)
    assert infinite.filter(pl.col("last_updated").is_null()).height == 1

    # fixed at the source, every rejected row arrives
    _fix_them_at_the_source(world, rows)
    assert pipeline.etl(raise_on_error=False).success
    assert_warehouse_matches_source(world)


@pytest.mark.parametrize(
    ("op", "config", "says"),
    [
        ("raw_totesys_tables", {"lookback_minutes": -5}, "lookback_minutes"),
        ("raw_totesys_tables", {"clock_skew_minutes": -1}, "clock_skew_minutes"),
        ("star_schema_tables", {"earliest_business_date": "1900-13-01"}, "earliest_business_date must be an ISO date"),
        ("star_schema_tables", {"latest_business_date": "1800-01-01"}, "the date window is empty"),
    ],
)
def test_invalid_config_is_refused_before_anything_is_read_or_written(world, op, config, says):
    before = world.bucket_snapshot()
    pipeline = _pipeline(world)
    with pytest.raises(Exception, match=says):
        pipeline.etl(run_config={"ops": {op: {"config": config}}})
    assert world.bucket_snapshot() == before
