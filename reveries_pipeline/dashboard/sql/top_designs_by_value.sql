-- top_designs_by_value: which designs sell best by value?
-- Answers: designs ranked by sales value (units_sold * unit_price) over
-- fact_sales_order_current, with both figures and the number of orders; ties broken by design_id.
-- Parameters (NULL or empty = no bound / no limit):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   limit               how many designs to return (int)
SELECT d.design_id,
       d.design_name,
       sum(s.units_sold * s.unit_price) AS sales_value,
       sum(s.units_sold)                AS units_sold,
       count(*)                         AS orders
FROM fact_sales_order_current AS s
JOIN dim_currency AS c ON c.currency_id = s.currency_id
JOIN dim_design AS d ON d.design_id = s.design_id
WHERE s.created_date BETWEEN COALESCE(NULLIF(%(date_from)s::text, '')::date, '-infinity'::date)
                         AND COALESCE(NULLIF(%(date_to)s::text, '')::date, 'infinity'::date)
  AND (NULLIF(%(currency)s::text, '') IS NULL OR c.currency_code = %(currency)s::text)
GROUP BY d.design_id, d.design_name
ORDER BY sales_value DESC, units_sold DESC, d.design_id
LIMIT NULLIF(%(limit)s::text, '')::bigint;
