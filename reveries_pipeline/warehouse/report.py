"""A short report on the warehouse: row counts, and one business question answered from the stars."""

from __future__ import annotations

import psycopg
from psycopg import sql

from reveries_pipeline.catalog import STAR_TABLE_NAMES
from reveries_pipeline.warehouse.schema import LEDGER_TABLE

TOP_DESIGNS_SQL = """
-- Top five designs by sales value in GBP over the 12 months up to the latest order in the warehouse,
-- counting each order once, at its current version, converted at its created date's rate and
-- rounded once; an order whose created date has no rate yet is left out of the value (and counted).
WITH current_orders AS (SELECT * FROM fact_sales_order_current),
     horizon AS (SELECT max(created_date) AS last_day FROM current_orders)
SELECT d.design_name, d.design_id,
       round(COALESCE(sum(o.units_sold * o.unit_price * f.gbp_per_eur / f.units_per_eur), 0), 2) AS sales_value_gbp,
       count(*) AS orders,
       count(*) FILTER (WHERE f.currency_id IS NULL) AS orders_without_rate
FROM current_orders o
JOIN dim_design d USING (design_id)
CROSS JOIN horizon h
LEFT JOIN reporting_fx f ON f.currency_id = o.currency_id AND f.rate_day = o.created_date
WHERE o.created_date > h.last_day - INTERVAL '12 months'
GROUP BY d.design_name, d.design_id
ORDER BY sales_value_gbp DESC, d.design_id
LIMIT 5
"""


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows per star table, in load order, then the load ledger's (not the deletion markers')."""
    return {
        t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
        for t in (*STAR_TABLE_NAMES, LEDGER_TABLE)
    }


def top_designs(conn: psycopg.Connection) -> list[tuple]:
    """(design name, design id, sales value in GBP, orders, orders without an FX rate), best first."""
    return conn.execute(TOP_DESIGNS_SQL).fetchall()
