-- top_designs_by_value: which designs sell best by value?
-- Answers: designs ranked by sales value (units_sold * unit_price) over fact_sales_order_current, with sales value, units
-- and number of orders; ties broken by design_id. Designs deleted at the source (a dim_design
-- deletion marker in reveries_deleted_rows) are left out.
-- Parameters (NULL or empty = no bound / no limit):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   limit               how many designs to return (int)
-- Filters are written so that a NULL parameter folds away at plan time, and rows are aggregated
-- by key before dimensions are joined: the planner cannot estimate filters on the DISTINCT ON view.
SELECT d.design_id, d.design_name, a.sales_value, a.units_sold, a.orders
FROM (
    SELECT s.design_id,
           sum(s.units_sold * s.unit_price) AS sales_value,
           sum(s.units_sold)                AS units_sold,
           count(*)                         AS orders
    FROM fact_sales_order_current AS s
    WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR s.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR s.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR s.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
    GROUP BY s.design_id
) AS a
JOIN dim_design AS d ON d.design_id = a.design_id
WHERE NOT EXISTS (SELECT 1 FROM reveries_deleted_rows AS x
                  WHERE x.star_table = 'dim_design' AND x.natural_id = d.design_id)
ORDER BY a.sales_value DESC, a.units_sold DESC, d.design_id
LIMIT NULLIF(%(limit)s::text, '')::bigint;
