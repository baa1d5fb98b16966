"""The warehouse asset checks, each driven to fail by breaking its rule for real.

Each case loads the seeded source through the whole pipeline, then breaks the warehouse (or the
source) the way a hard delete, a manual edit or a dropped constraint would, and runs the warehouse
asset again: its check must fail with the severity and the metadata an operator reads in the UI.
"""

from __future__ import annotations

import psycopg
import pytest
from dagster import AssetCheckSeverity
from psycopg import sql

from reveries_pipeline.catalog import FACT_TABLES
from reveries_pipeline.warehouse import checks
from reveries_pipeline.warehouse.checks import RECONCILED
from reveries_pipeline.warehouse.schema import RECORD_ID
from reveries_pipeline_tests.pipeline_harness import check_results

pytestmark = pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)


def _copy_row(pipeline, table: str, overrides: dict[str, object]) -> None:
    """Insert a copy of `table`'s first row with `overrides`, as a manual INSERT would (record id new)."""
    columns = [
        name
        for (name,) in pipeline.warehouse(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        if name != RECORD_ID.get(table)
    ]
    picked = sql.SQL(", ").join(sql.Literal(overrides[c]) if c in overrides else sql.Identifier(c) for c in columns)
    query = sql.SQL("INSERT INTO {t} ({cols}) SELECT {picked} FROM {t} ORDER BY 1 LIMIT 1").format(
        t=sql.Identifier(table), cols=sql.SQL(", ").join(map(sql.Identifier, columns)), picked=picked
    )
    with psycopg.connect(pipeline.warehouse_dsn) as conn:
        conn.execute(query)


def test_reconciliation_warns_when_the_warehouse_holds_rows_the_source_does_not(pipeline):
    pipeline.etl()
    # a hard delete at the source: change capture (by last_updated) never sees it
    (deleted,) = pipeline.source("SELECT max(sales_order_id) FROM sales_order")[0]
    pipeline.source("DELETE FROM sales_order WHERE sales_order_id = %s", (deleted,))
    # a design added to the warehouse by hand
    (next_design,) = pipeline.warehouse("SELECT max(design_id) + 1 FROM dim_design")[0]
    _copy_row(pipeline, "dim_design", {"design_id": next_design})
    (orders,) = pipeline.source("SELECT count(*) FROM sales_order")[0]
    (designs,) = pipeline.source("SELECT count(*) FROM design")[0]

    evaluations = check_results(pipeline.load())

    failed = {asset for (asset, name), e in evaluations.items() if name == "reconciles_with_source" and not e.passed}
    assert failed == {"warehouse/fact_sales_order", "warehouse/dim_design"}
    assert len([k for k in evaluations if k[1] == "reconciles_with_source"]) == len(RECONCILED)
    for table, source_rows in (("fact_sales_order", orders), ("dim_design", designs)):
        check = evaluations[(f"warehouse/{table}", "reconciles_with_source")]
        assert check.severity == AssetCheckSeverity.WARN  # a live source moves: never blocks
        assert check.metadata["source"].value == source_rows
        assert check.metadata["warehouse"].value == source_rows + 1


def test_orphan_check_sweeps_a_fact_whose_foreign_keys_were_dropped_and_counts_each_key(pipeline):
    pipeline.etl()
    pipeline.warehouse(
        "ALTER TABLE fact_payment DROP CONSTRAINT fact_payment_currency_id_fkey;"
        " ALTER TABLE fact_payment DROP CONSTRAINT fact_payment_payment_type_id_fkey;"
        # present but NOT VALID: the rows before it were never checked against it
        " ALTER TABLE fact_sales_order DROP CONSTRAINT fact_sales_order_design_id_fkey;"
        " ALTER TABLE fact_sales_order ADD CONSTRAINT fact_sales_order_design_id_fkey"
        " FOREIGN KEY (design_id) REFERENCES dim_design (design_id) NOT VALID"
    )
    (top,) = pipeline.warehouse("SELECT max(payment_id) FROM fact_payment")[0]
    _copy_row(pipeline, "fact_payment", {"payment_id": top + 1, "currency_id": 999_991})
    _copy_row(pipeline, "fact_payment", {"payment_id": top + 2, "currency_id": 999_992, "payment_type_id": 999_993})

    evaluations = check_results(pipeline.load())

    check = evaluations[("warehouse/fact_payment", "no_orphan_keys")]
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    assert check.metadata["orphans"].value == {
        "currency_id -> dim_currency": 2,
        "payment_type_id -> dim_payment_type": 1,
    }
    assert check.metadata["scope"].value == "whole table"  # the guard is gone: every row is swept
    not_valid = evaluations[("warehouse/fact_sales_order", "no_orphan_keys")]
    assert not_valid.passed and not_valid.metadata["scope"].value == "whole table"
    intact = evaluations[("warehouse/fact_purchase_order", "no_orphan_keys")]  # PostgreSQL guarantees it
    assert intact.passed and intact.metadata["scope"].value == "none: enforced by validated foreign keys"


def test_current_table_check_fails_when_a_current_row_is_not_the_newest_version(pipeline):
    """The loader keeps `_current` by difference; the check recomputes it from the history and compares."""
    pipeline.etl()
    pipeline.source("UPDATE sales_order SET units_sold = 9, last_updated = now() WHERE sales_order_id IN (1, 2)")
    pipeline.etl()
    # a hand edit (or a loader bug): order 2 shows a value no version of it has
    pipeline.warehouse("UPDATE fact_sales_order_current SET units_sold = units_sold + 1 WHERE sales_order_id = 2")
    (since,) = pipeline.warehouse("SELECT max(sales_record_id) FROM fact_sales_order")[0]

    with psycopg.connect(pipeline.warehouse_dsn) as conn:
        whole = checks.current_matches_history(conn, "fact_sales_order")
        untouched = checks.current_matches_history(conn, "fact_sales_order", since)

    assert not whole.passed and whole.severity == AssetCheckSeverity.ERROR
    assert (whole.metadata["rows_not_current"].value, whole.metadata["current_rows_missing"].value) == (1, 1)
    assert untouched.passed  # after a load that touched no id, there is nothing to compare


def test_current_table_check_passes_after_updates_and_deletes(pipeline):
    pipeline.etl()
    pipeline.source("UPDATE sales_order SET units_sold = 9, last_updated = now() WHERE sales_order_id = 1")
    pipeline.source("UPDATE purchase_order SET item_quantity = 9, last_updated = now() WHERE purchase_order_id = 1")
    pipeline.source("UPDATE payment SET paid = NOT paid, last_updated = now() WHERE payment_id = 1")

    evaluations = check_results(pipeline.etl())

    for fact in FACT_TABLES:
        check = evaluations[(f"warehouse/{fact}", "current_matches_history")]
        assert check.passed, (fact, check.metadata)
        assert evaluations[(f"warehouse/{fact}", "reconciles_with_source")].passed, fact
