"""A short report on the warehouse: row counts, and one business question answered from the stars."""

from __future__ import annotations

import psycopg
from psycopg import sql

from reveries_pipeline.catalog import STAR_TABLE_NAMES
from reveries_pipeline.warehouse.schema import LEDGER_TABLE

TOP_DESIGNS_SQL = """
-- Top five designs by sales value over the 12 months up to the latest order in the warehouse,
-- counting each order once, at its current version.
WITH current_orders AS (SELECT * FROM fact_sales_order_current),
     horizon AS (SELECT max(created_date) AS last_day FROM current_orders)
SELECT d.design_name, d.design_id,
       sum(o.units_sold * o.unit_price) AS sales_value,
       count(*) AS orders
FROM current_orders o
JOIN dim_design d USING (design_id)
CROSS JOIN horizon h
WHERE o.created_date > h.last_day - INTERVAL '12 months'
GROUP BY d.design_name, d.design_id
ORDER BY sales_value DESC, d.design_id
LIMIT 5
"""


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows per star table, in load order, then the load ledger's (not the deletion markers')."""
    return {
        t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
        for t in (*STAR_TABLE_NAMES, LEDGER_TABLE)
    }


def top_designs(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(TOP_DESIGNS_SQL).fetchall()
