"""The `make demo` / `reveries run` summary (warehouse/report.py) on the hand-made warehouse of
dashboard/warehouse_fixture.py, against answers worked out by hand."""

from __future__ import annotations

from decimal import Decimal as D

import psycopg

from reveries_pipeline.warehouse import report
from reveries_pipeline_tests.dashboard.warehouse_fixture import refresh_derived, seed_warehouse

# The fixture's rows per table: dim_date spans 2023-01-01..2025-12-31 (365 + 366 + 365 = 1096 days);
# 15 sales versions of 10 orders, 4 purchase versions, 14 payment versions, 3 ledger entries.
ROW_COUNTS = {
    "dim_date": 1096,
    "dim_staff": 3,
    "dim_location": 1,
    "dim_design": 4,
    "dim_currency": 3,
    "dim_counterparty": 3,
    "dim_payment_type": 2,
    "dim_transaction": 12,
    "fact_sales_order": 15,
    "fact_purchase_order": 4,
    "fact_payment": 14,
    "reveries_load_ledger": 3,
}

# The newest order is 109 (2024-04-25), so the window is created_date > 2023-04-25: order 100
# (Wooden, 1,000.00, created 2023-04-25) falls just outside. Current versions, in GBP at each order's
# created-date rate (warehouse_fixture.RATES: GBP and USD units per euro; USD -> GBP = x * GBP / USD):
# Bronze  102 (USD 50.00, 2024-01-20: 50 * 0.8570 / 1.0887 = 39.3589...) + 105 (USD 80.00, 2024-03-01:
#         80 * 0.8570 / 1.0830 = 63.3056...) + 109 (GBP 1200.00) = 1302.66 (rounded once), 3 orders
# Granite 104 (USD 99.00 on 2024-02-28, a day without a rate: left out, counted) + 108 (GBP 230.00)
# Soft    103 + 107: 22.75 + 50.00 = 72.75 GBP (103's late old version 99 x 1.00 not counted)
# Wooden  101 + 106: 30.00 + 33.00 = 63.00 GBP
TOP_DESIGNS = [
    ("Bronze", 2, D("1302.66"), 3, 0),
    ("Granite", 4, D("230.00"), 2, 1),
    ("Soft", 3, D("72.75"), 2, 0),
    ("Wooden", 1, D("63.00"), 2, 0),
]


def test_row_counts_and_top_designs_by_hand(warehouse_dsn):
    seed_warehouse(warehouse_dsn)
    with psycopg.connect(warehouse_dsn) as conn:
        assert report.row_counts(conn) == ROW_COUNTS
        assert list(report.row_counts(conn)) == list(ROW_COUNTS), "tables in load order, the ledger last"
        assert report.top_designs(conn) == TOP_DESIGNS


def test_top_designs_keeps_five(warehouse_dsn):
    seed_warehouse(warehouse_dsn)
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        # two more designs, each with one order of 10 x 1.00 = 10.00 GBP on 2024-04-02: six designs in the
        # window. They tie at 10.00 behind Wooden (63.00); the lower design id, Fern (5), keeps fifth
        # place and Moss (6) drops out, although Moss's order was inserted first.
        conn.execute(
            "INSERT INTO dim_design VALUES (5, 'Fern', '/designs', 'fern.json'), (6, 'Moss', '/designs', 'moss.json')"
        )
        conn.execute(
            "INSERT INTO fact_sales_order (sales_order_id, created_date, created_time, last_updated_date,"
            " last_updated_time, sales_staff_id, counterparty_id, units_sold, unit_price, currency_id,"
            " design_id, agreed_payment_date, agreed_delivery_date, agreed_delivery_location_id)"
            " VALUES (110, '2024-04-02', '08:00', '2024-04-02', '08:00', 1, 1, 10, 1.00, 1, 6,"
            " '2024-09-01', '2024-09-02', 1),"
            " (111, '2024-04-02', '08:00', '2024-04-02', '08:00', 1, 1, 10, 1.00, 1, 5,"
            " '2024-09-01', '2024-09-02', 1)"
        )
        refresh_derived(conn)
        assert report.top_designs(conn) == [*TOP_DESIGNS, ("Fern", 5, D("10.00"), 1, 0)]
