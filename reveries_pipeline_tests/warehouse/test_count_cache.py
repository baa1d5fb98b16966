"""A load's exact counts (dagster/row_count, the reconciled live rows) cost what changed, not the history.

The kept counts are tampered with on purpose here: a figure that survives a load shows the load read
it back instead of counting; an exact figure after a write shows the write made the load count again.
"""

from __future__ import annotations

import psycopg
import pytest

from reveries_pipeline.warehouse.count_cache import CHANGES_TABLE
from reveries_pipeline.warehouse.reporting import CURRENT_TABLES
from reveries_pipeline.warehouse.schema import WAREHOUSE_TABLES
from reveries_pipeline_tests.pipeline_harness import check_results

pytestmark = pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)


def _row_counts(result) -> dict[str, int]:
    return {
        event.asset_key.path[-1]: event.materialization.metadata["dagster/row_count"].value
        for event in result.get_asset_materialization_events()
    }


def _keep(pipeline, measure: str, count: int) -> None:
    pipeline.warehouse("UPDATE reveries_row_count SET row_count = %s WHERE measure = %s", (count, measure))


def test_every_table_a_count_reads_is_stamped_by_its_writes(pipeline):
    pipeline.load()
    stamped = {name for (name,) in pipeline.warehouse(f"SELECT table_name FROM {CHANGES_TABLE}")}  # noqa: S608
    assert stamped == {*WAREHOUSE_TABLES, *CURRENT_TABLES}


def test_a_load_that_changed_nothing_reads_its_counts_back_instead_of_counting(pipeline):
    pipeline.etl()
    _keep(pipeline, "rows:fact_payment", 123_456)
    _keep(pipeline, "live:dim_design", 77)

    idle = pipeline.load()

    assert _row_counts(idle)["fact_payment"] == 123_456
    assert check_results(idle)[("warehouse/dim_design", "reconciles_with_source")].metadata["warehouse"].value == 77


def test_a_fact_load_adds_what_it_appended_and_any_other_write_counts_again(pipeline):
    pipeline.etl()
    (payments,) = pipeline.warehouse("SELECT count(*) FROM fact_payment")[0]
    (orders,) = pipeline.warehouse("SELECT count(*) FROM fact_sales_order")[0]
    _keep(pipeline, "rows:fact_payment", 1_000)
    _keep(pipeline, "rows:fact_sales_order", 1_000)
    pipeline.source("UPDATE payment SET paid = NOT paid, last_updated = now() WHERE payment_id IN (1, 2)")
    # a hand edit of the orders (outside any load): its statement trigger stamps the table
    pipeline.warehouse("UPDATE fact_sales_order SET units_sold = units_sold WHERE sales_order_id = 1")

    counts = _row_counts(pipeline.etl())

    assert counts["fact_payment"] == 1_000 + 2  # the kept count plus the two versions appended
    assert counts["fact_sales_order"] == orders  # counted again: exact
    with psycopg.connect(pipeline.warehouse_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM fact_payment").fetchone()[0] == payments + 2


def test_a_facts_live_rows_follow_the_change_of_its_pre_aggregate_through_a_load(pipeline):
    pipeline.etl()
    _keep(pipeline, "live:fact_payment", 1_000)
    _keep(pipeline, "live:fact_sales_order", 1_000)
    pipeline.source("UPDATE payment SET paid = NOT paid, last_updated = now() WHERE payment_id IN (1, 2)")
    pipeline.warehouse("UPDATE fact_sales_order_current SET units_sold = units_sold WHERE sales_order_id = 1")
    (orders,) = pipeline.source("SELECT count(*) FROM sales_order")[0]

    evaluations = check_results(pipeline.etl())

    def live(fact: str) -> int:
        return evaluations[(f"warehouse/{fact}", "reconciles_with_source")].metadata["warehouse"].value

    assert live("fact_payment") == 1_000  # the kept count plus the load's change: two ids, new versions, none gone
    assert live("fact_sales_order") == orders  # a hand edit of _current: counted again
