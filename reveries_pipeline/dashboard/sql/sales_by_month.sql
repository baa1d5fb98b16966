-- sales_by_month: what is the sales value by month, per currency?
-- Answers: per calendar month of created_date and currency_code, the sales value
-- (units_sold * unit_price), orders and units over fact_sales_order_current.
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
-- Filters are written so that a NULL parameter folds away at plan time, and rows are aggregated
-- by key before dimensions are joined: the planner cannot estimate filters on the DISTINCT ON view.
SELECT a.month, c.currency_code, a.sales_value, a.orders, a.units_sold
FROM (
    SELECT date_trunc('month', s.created_date)::date AS month,
           s.currency_id,
           sum(s.units_sold * s.unit_price)         AS sales_value,
           count(*)                                 AS orders,
           sum(s.units_sold)                        AS units_sold
    FROM fact_sales_order_current AS s
    WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR s.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR s.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR s.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
    GROUP BY 1, 2
) AS a
JOIN dim_currency AS c ON c.currency_id = a.currency_id
ORDER BY a.month, c.currency_code;
