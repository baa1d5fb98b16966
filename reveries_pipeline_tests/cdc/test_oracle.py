"""Both capture modes against one change script, on local and S3 buckets, through the real assets.

Logical mode must show every committed change in order in the raw lake, and every version in the
warehouse; poll mode shows what polling can see (the last version of each row, deletes once the
reconciliation has run). Both leave out the rolled-back row and take deleted ids out of `_current`.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from dagster import AssetCheckSeverity

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.capture_mode import CaptureMode, TotesysCapture
from reveries_pipeline.ingestion.logical import LogicalCaptureSettings, drop_sql
from reveries_pipeline_tests.cdc.oracle import ROLLED_BACK_UNITS, ChangeScript, batches_since, last_keys
from reveries_pipeline_tests.pipeline_harness import Pipeline, check_results

RECONCILE = {"ops": {"raw_totesys_tables": {"config": {"reconcile_deletes": True}}}}


@pytest.fixture
def capture_for(seeded_source):
    """Factory: the capture resource of a mode, on a slot of its own (slots are cluster-wide); the slot
    is dropped afterwards, or it would hold the shared server's WAL."""
    made: list[TotesysCapture] = []

    def make(mode: CaptureMode) -> TotesysCapture:
        suffix = uuid.uuid4().hex[:10]
        made.append(TotesysCapture(mode=mode, publication=f"pub_{suffix}", slot=f"slot_{suffix}"))
        return made[-1]

    yield make
    with psycopg.connect(seeded_source, autocommit=True) as conn:
        for capture in made:
            conn.execute(drop_sql(LogicalCaptureSettings(capture.publication, capture.slot)))


def _run_script(pipe: Pipeline, script: ChangeScript, reconcile: bool) -> dict[str, str | None]:
    script.before_first_run()
    pipe.etl()
    before = last_keys(pipe.ingestion, SOURCE_TABLE_NAMES)
    script.apply()
    pipe.etl(run_config=RECONCILE if reconcile else None)
    return before


def _changes(pipe: Pipeline, table: str, after_key: str | None) -> list[tuple]:
    frame = batches_since(pipe.ingestion, table, after_key)
    if not frame.height:
        return []
    ops = frame["_op"] if "_op" in frame.columns else [None] * frame.height  # a poll batch without deletes
    return list(zip(ops, frame[f"{table}_id"], strict=True))


def _versions(pipe: Pipeline, order_id: int) -> list[int]:
    rows = pipe.warehouse(
        "SELECT units_sold FROM fact_sales_order WHERE sales_order_id = %s ORDER BY sales_record_id", (order_id,)
    )
    return [units for (units,) in rows]


def _assert_both_modes(pipe: Pipeline, script: ChangeScript) -> None:
    """What polling and logical capture both must show after the script."""
    assert pipe.warehouse("SELECT count(*) FROM fact_sales_order WHERE units_sold = %s", (ROLLED_BACK_UNITS,)) == [(0,)]
    current = {i for (i,) in pipe.warehouse("SELECT sales_order_id FROM fact_sales_order_current")}
    assert {script.inserted_order, script.new_order, script.updated_order} <= current
    assert pipe.warehouse(
        "SELECT counterparty_id FROM dim_counterparty WHERE counterparty_id = %s", (script.new_counterparty,)
    )
    assert pipe.warehouse("SELECT city FROM dim_location WHERE location_id = %s", (script.new_address,)) == [
        ("Oracle",)
    ]
    # the deleted payment leaves fact_payment_current; its history stays
    payment = script.deleted_payment
    assert pipe.warehouse("SELECT count(*) FROM fact_payment_current WHERE payment_id = %s", (payment,)) == [(0,)]
    assert pipe.warehouse("SELECT count(*) FROM fact_payment WHERE payment_id = %s", (payment,))[0][0] >= 1
    # the deleted design stays (facts may reference it), marked deleted beside the reference schema
    assert pipe.warehouse("SELECT design_name FROM dim_design WHERE design_id = %s", (script.doomed_design,)) == [
        ("Doomed",)
    ]
    marked = pipe.warehouse("SELECT star_table, natural_id FROM reveries_deleted_rows ORDER BY 1, 2")
    assert marked == [("dim_design", script.doomed_design), ("fact_payment", payment)]


# Each mode on one kind of bucket (logical: local, poll: S3): what they check is the capture, not the store.
@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_logical_mode_holds_every_committed_change_in_order(seeded_source, warehouse_dsn, ingestion_store,
                                                           processed_store, capture_for):  # fmt: skip
    pipe = Pipeline(seeded_source, warehouse_dsn, ingestion_store, processed_store, capture_for(CaptureMode.LOGICAL))
    script = ChangeScript(seeded_source)
    before = _run_script(pipe, script, reconcile=False)

    assert _changes(pipe, "sales_order", before["sales_order"]) == [
        ("insert", script.inserted_order),
        ("update", script.updated_order),
        ("update", script.updated_order),
        ("insert", script.new_order),
    ]
    assert _changes(pipe, "payment", before["payment"]) == [("delete", script.deleted_payment)]
    assert _changes(pipe, "design", before["design"]) == [("delete", script.doomed_design)]
    assert _changes(pipe, "address", before["address"]) == [("insert", script.new_address)]
    assert _changes(pipe, "counterparty", before["counterparty"]) == [("insert", script.new_counterparty)]
    # the three-table transaction's rows share its commit
    lsns = {
        table: set(batches_since(pipe.ingestion, table, before[table])["_commit_lsn"])
        for table in ("address", "counterparty")
    }
    assert lsns["address"] == lsns["counterparty"]
    untouched = [
        t for t in SOURCE_TABLE_NAMES if t not in ("sales_order", "payment", "design", "address", "counterparty")
    ]
    assert all(_changes(pipe, t, before[t]) == [] for t in untouched)

    first_units = _versions(pipe, script.updated_order)[0]
    assert _versions(pipe, script.updated_order) == [first_units, 12, 13]  # the intermediate version too
    _assert_both_modes(pipe, script)


@pytest.mark.parametrize("bucket_kind", ["s3"], indirect=True)
def test_poll_mode_sees_the_last_version_and_deletes_once_reconciled(seeded_source, warehouse_dsn, ingestion_store,
                                                                     processed_store, capture_for):  # fmt: skip
    pipe = Pipeline(seeded_source, warehouse_dsn, ingestion_store, processed_store, capture_for(CaptureMode.POLL))
    script = ChangeScript(seeded_source)
    before = _run_script(pipe, script, reconcile=False)

    orders = sorted(_changes(pipe, "sales_order", before["sales_order"]), key=lambda c: c[1])
    assert orders == sorted([(None, script.updated_order), (None, script.inserted_order), (None, script.new_order)])
    first_units = _versions(pipe, script.updated_order)[0]
    assert _versions(pipe, script.updated_order) == [first_units, 13]  # polling never saw units 12
    # polling by last_updated never sees a delete: the deleted payment is still current ...
    payment = script.deleted_payment
    assert pipe.warehouse("SELECT count(*) FROM fact_payment_current WHERE payment_id = %s", (payment,)) == [(1,)]
    assert _changes(pipe, "payment", before["payment"]) == []

    # ... until a run reconciles the table's keys (source_change_sensor's, or the hourly backstop's)
    pipe.etl(run_config=RECONCILE)
    assert _changes(pipe, "payment", before["payment"]) == [("delete", payment)]
    _assert_both_modes(pipe, script)


@pytest.mark.parametrize("bucket_kind", ["local"])
def test_replication_slot_retained_wal_warns_above_its_limit(seeded_source, warehouse_dsn, ingestion_store,
                                                             processed_store, capture_for):  # fmt: skip
    named = capture_for(CaptureMode.LOGICAL)
    logical = TotesysCapture(mode="logical", publication=named.publication, slot=named.slot, retained_wal_warn_bytes=1)
    pipe = Pipeline(seeded_source, warehouse_dsn, ingestion_store, processed_store, logical)
    pipe.ingest()
    ChangeScript(seeded_source).apply()
    # a run of one table can't confirm the slot (the others' changes would be skipped): it keeps WAL
    check = check_results(pipe.ingest(selection=["raw/address"]))[("raw/address", "replication_slot_retained_wal")]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert check.metadata["retained_wal_bytes"].value > 1
    assert f"replication slot '{logical.slot}' keeps" in check.description

    # back in poll mode, the slot left behind is named until it is dropped: nobody confirms it any more
    back = TotesysCapture(mode="poll", publication=named.publication, slot=named.slot, retained_wal_warn_bytes=1)
    polled = Pipeline(seeded_source, warehouse_dsn, ingestion_store, processed_store, back)
    check = check_results(polled.ingest())[("raw/address", "replication_slot_retained_wal")]
    assert not check.passed and "left from logical mode" in check.description
    assert "reveries totesys drop-cdc --apply" in check.description

    polled = Pipeline(seeded_source, warehouse_dsn, ingestion_store, processed_store, capture_for(CaptureMode.POLL))
    check = check_results(polled.ingest())[("raw/address", "replication_slot_retained_wal")]
    assert check.passed and check.metadata["capture_mode"].value == "poll"
