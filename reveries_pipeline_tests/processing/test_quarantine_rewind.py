"""Recreating a processed object that was set aside (quarantined) before the warehouse loaded it:
the pass log knows which raw batches produced it, and `rewind.rewind_to_reprocess` has them reprocessed."""

from __future__ import annotations

import pytest

from reveries_pipeline.asset_keys import processed_key
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.processing.rewind import rewind_to_reprocess
from reveries_pipeline_tests.pipeline_harness import check_results


def keys(store, table) -> list[str]:
    return [o.key for o in new_batches(store, table, None)]


def set_aside(store, key: str) -> None:
    """What `reveries quarantine` does to the processed bucket: the object is gone from its table."""
    assert store.get_bytes(key) is not None
    store.delete_prefix(key)


def dim_date_is_contiguous(pipeline) -> bool:
    lo, hi, n = pipeline.warehouse("SELECT min(date_id), max(date_id), count(*) FROM dim_date")[0]
    return (hi - lo).days + 1 == n


def test_fact_and_dim_date_objects_lost_before_loading_come_back(pipeline):
    pipeline.etl()
    far = pipeline.source("SELECT (now()::date + 40)")[0][0]
    pipeline.source(
        "UPDATE sales_order SET units_sold = 55, agreed_delivery_date = %s, last_updated = now()"
        " WHERE sales_order_id IN (1, 2)",
        (far.isoformat(),),
    )
    pipeline.ingest()
    pipeline.process()
    lost = [keys(pipeline.processed, "fact_sales_order")[-1], keys(pipeline.processed, "dim_date")[-1]]
    for key in lost:
        set_aside(pipeline.processed, key)
    first, second = (rewind_to_reprocess(pipeline.processed, key) for key in lost)
    assert first.startswith(lost[0]) and "Rewound the processing checkpoint (sales_order to sales_order/" in first
    assert f"..{far.isoformat()} again" in first
    assert second.startswith(lost[1]) and "already at or before" in second

    pipeline.process()
    result = pipeline.load()
    assert pipeline.warehouse(
        "SELECT sales_order_id, count(*) FROM fact_sales_order WHERE sales_order_id IN (1, 2, 3) GROUP BY 1 ORDER BY 1"
    ) == [(1, 2), (2, 2), (3, 1)]
    assert pipeline.warehouse(
        "SELECT sales_order_id, units_sold FROM fact_sales_order_current WHERE sales_order_id IN (1, 2) ORDER BY 1"
    ) == [(1, 55), (2, 55)]
    assert pipeline.warehouse("SELECT count(*) FROM dim_date WHERE date_id = %s", (far,)) == [(1,)]
    assert dim_date_is_contiguous(pipeline)
    assert all(c.passed for (table, name), c in check_results(result).items() if name == "no_orphan_keys")


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_released_facts_come_back_from_the_raw_batch_they_were_first_read_from(pipeline):
    staff_id, department_id = pipeline.source("SELECT staff_id, department_id FROM staff ORDER BY 1 LIMIT 1")[0]
    pipeline.source("ALTER TABLE staff DROP CONSTRAINT staff_department_id_fkey")
    pipeline.source("UPDATE staff SET department_id = 99999, last_updated = now() WHERE staff_id = %s", (staff_id,))
    pipeline.etl()  # this staff member's facts are held back
    pipeline.source(
        "UPDATE staff SET department_id = %s, last_updated = now() WHERE staff_id = %s", (department_id, staff_id)
    )
    pipeline.ingest()
    pipeline.process()  # ...and released, in a pass that read no sales_order batch
    released = keys(pipeline.processed, "fact_sales_order")[-1]
    set_aside(pipeline.processed, released)
    description = rewind_to_reprocess(pipeline.processed, released)
    assert "sales_order to its first batch" in description

    pipeline.process()
    pipeline.load()
    expected = pipeline.source("SELECT count(*) FROM sales_order")[0][0]
    assert pipeline.warehouse("SELECT count(*), count(DISTINCT sales_order_id) FROM fact_sales_order")[0] == (
        expected,
        expected,
    )


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_a_key_the_pass_log_does_not_know_reprocesses_everything(pipeline):
    pipeline.etl()
    before = pipeline.warehouse("SELECT * FROM fact_payment ORDER BY 1")
    unknown = "fact_payment/2020/01/01/fact_payment-20200101T000000000Z.parquet"
    description = rewind_to_reprocess(pipeline.processed, unknown)
    assert "not in the processing pass log" in description and "every raw batch" in description
    result = pipeline.process()
    [mat] = [
        m
        for m in result.asset_materializations_for_node("star_schema_tables")
        if m.asset_key == processed_key("dim_date")
    ]
    assert mat.metadata["raw_batches_read"].value == 11 and mat.metadata["rows"].value > 0  # dim_date re-emitted
    pipeline.load()
    assert pipeline.warehouse("SELECT * FROM fact_payment ORDER BY 1") == before  # replay went in once
    assert dim_date_is_contiguous(pipeline)
