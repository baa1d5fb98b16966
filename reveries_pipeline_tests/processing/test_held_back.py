"""A rejected dimension row holds back only the facts that reference it; the rest loads, and the
held facts follow once the dimension arrives. Real totesys, buckets and warehouse."""

from __future__ import annotations

import polars as pl

from reveries_pipeline.processing import held
from reveries_pipeline_tests.pipeline_harness import check_results


def ids(rows) -> set[int]:
    return {r[0] for r in rows}


def test_facts_of_a_rejected_staff_member_wait_while_everything_else_loads(pipeline):
    staff_id, department_id = pipeline.source(
        "SELECT staff_id, department_id FROM sales_order JOIN staff USING (staff_id)"
        " GROUP BY 1, 2 ORDER BY count(*), 1 LIMIT 1"
    )[0]
    theirs = ids(pipeline.source("SELECT sales_order_id FROM sales_order WHERE staff_id = %s", (staff_id,)))
    their_purchases = ids(
        pipeline.source("SELECT purchase_order_id FROM purchase_order WHERE staff_id = %s", (staff_id,))
    )
    # the staff row is rejected: its department is missing
    pipeline.source("ALTER TABLE staff DROP CONSTRAINT staff_department_id_fkey")
    pipeline.source("UPDATE staff SET department_id = 99999, last_updated = now() WHERE staff_id = %s", (staff_id,))

    result = pipeline.etl()
    all_sales = ids(pipeline.source("SELECT sales_order_id FROM sales_order"))
    assert ids(pipeline.warehouse("SELECT sales_order_id FROM fact_sales_order")) == all_sales - theirs
    all_purchases = ids(pipeline.source("SELECT purchase_order_id FROM purchase_order"))
    assert (
        ids(pipeline.warehouse("SELECT purchase_order_id FROM fact_purchase_order")) == all_purchases - their_purchases
    )
    assert pipeline.warehouse("SELECT count(*) FROM fact_payment") == pipeline.source("SELECT count(*) FROM payment")
    checks = check_results(result)
    held = checks[("processed/fact_sales_order", "no_held_back_facts")]
    assert not held.passed
    assert held.metadata["held"].value == {f"sales_staff_id {staff_id} (dim_staff)": sorted(theirs)[:20]}
    assert checks[("processed/fact_payment", "no_held_back_facts")].passed
    assert not checks[("processed/dim_staff", "no_rejected_rows")].passed

    # the source is fixed: the staff row arrives, and the held facts are released and loaded
    pipeline.source(
        "UPDATE staff SET department_id = %s, last_updated = now() WHERE staff_id = %s", (department_id, staff_id)
    )
    result = pipeline.etl()
    assert ids(pipeline.warehouse("SELECT sales_order_id FROM fact_sales_order")) == all_sales
    assert ids(pipeline.warehouse("SELECT purchase_order_id FROM fact_purchase_order")) == all_purchases
    # each once, with the version it was captured as
    assert pipeline.warehouse(
        "SELECT sales_order_id, last_updated_date, last_updated_time FROM fact_sales_order ORDER BY 1"
    ) == pipeline.source("SELECT sales_order_id, last_updated::date, last_updated::time FROM sales_order ORDER BY 1")
    assert check_results(result)[("processed/fact_sales_order", "no_held_back_facts")].passed


def test_a_few_rows_are_matched_by_binary_search_exactly_as_by_hashing_every_key():
    """An incremental pass looks up its few fact rows in millions of sorted keys without hashing them
    all: the same answer, nulls included."""
    known = {"dim_transaction": pl.Series(range(1, 2_000, 2), dtype=pl.Int32)}  # odd keys only
    facts = pl.DataFrame({"transaction_id": [1, 2, 3, 1_999, 2_001, 0, None]}, schema={"transaction_id": pl.Int32})

    def unresolved(rows: int) -> list:
        expression = held._unresolved("transaction_id", "dim_transaction", known, rows)
        return facts.select(expression).to_series().to_list()

    searched, hashed = unresolved(rows=facts.height), unresolved(rows=10**9)
    assert searched == hashed == [False, True, False, False, True, True, None]
