"""The check that every (currency, created date) of a current fact has an FX rate."""

from __future__ import annotations

import psycopg
from dagster import AssetCheckSeverity

from reveries_pipeline.warehouse import checks, reporting
from reveries_pipeline_tests.dashboard.warehouse_fixture import seed_warehouse


def test_fx_coverage_check_warns_naming_each_created_date_without_a_rate(warehouse_dsn):
    seed_warehouse(warehouse_dsn)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM reveries_fx_rate")
        conn.execute(
            "INSERT INTO reveries_fx_rate SELECT code, day, day, 1 FROM unnest(ARRAY['GBP', 'USD', 'EUR']) AS code,"
            " generate_series(date '2023-01-01', date '2025-12-31', interval '1 day') AS g(t),"
            " LATERAL (SELECT t::date AS day) AS x"
            " WHERE NOT (code = 'USD' AND day = '2024-01-20')"  # order 102 (USD) was created that day
        )
        with conn.transaction():
            reporting.recompute_aggregates(conn)
        sales = checks.fx_rate_coverage(conn, "fact_sales_order")
        payments = checks.fx_rate_coverage(conn, "fact_payment")

    assert sales.check_name == "fx_rate_for_every_created_date"
    assert not sales.passed and sales.severity == AssetCheckSeverity.WARN
    assert sales.metadata["pairs_without_rate"].value == 1
    assert sales.metadata["first_missing"].value == ["2024-01-20 USD"]
    assert "--partition-range 2024-01-20...2024-01-20" in sales.metadata["fix"].value
    assert payments.passed and payments.metadata["pairs_without_rate"].value == 0
