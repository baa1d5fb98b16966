"""Schema drift in the source: what the star schema doesn't need keeps flowing; what it needs fails
that table alone, by name, and recovers when the source is put right."""

import pytest

from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source

pytestmark = pytest.mark.faults


def test_added_widened_and_dropped_columns_keep_flowing(world):
    world.source("ALTER TABLE sales_order ADD COLUMN discount_pct numeric DEFAULT 0.125")  # unconstrained
    world.source("ALTER TABLE sales_order ALTER COLUMN units_sold TYPE bigint")  # int -> bigint, a star column
    world.source("ALTER TABLE currency ALTER COLUMN currency_code TYPE text")  # varchar(3) -> text
    world.source("ALTER TABLE counterparty DROP COLUMN commercial_contact")  # nobody downstream reads it
    world.change_source()
    world.source("UPDATE counterparty SET last_updated = now() WHERE counterparty_id = 1")
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)


def test_retyped_star_column_fails_its_table_alone_and_recovers(world):
    world.source("ALTER TABLE sales_order ALTER COLUMN unit_price TYPE text")
    world.change_source()
    payments = len(list(world.ingestion.list_objects("payment/")))
    failed = world.run("etl_job")
    assert failed.returncode != 0
    assert "sales_order" in failed.output and "unit_price" in failed.output
    assert "numeric(10,2)" in failed.output and "text" in failed.output
    assert len(list(world.ingestion.list_objects("payment/"))) == payments + 1  # other tables captured

    world.source("ALTER TABLE sales_order ALTER COLUMN unit_price TYPE numeric(10,2) USING unit_price::numeric")
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)
