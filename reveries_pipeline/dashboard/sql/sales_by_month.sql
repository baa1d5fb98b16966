-- sales_by_month: what is the sales value by month, per currency?
-- Answers: per calendar month of created_date and currency_code, the sales value
-- (units_sold * unit_price), orders and units over fact_sales_order_current.
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
SELECT date_trunc('month', s.created_date)::date AS month,
       c.currency_code,
       sum(s.units_sold * s.unit_price)         AS sales_value,
       count(*)                                 AS orders,
       sum(s.units_sold)                        AS units_sold
FROM fact_sales_order_current AS s
JOIN dim_currency AS c ON c.currency_id = s.currency_id
WHERE s.created_date BETWEEN COALESCE(NULLIF(%(date_from)s::text, '')::date, '-infinity'::date)
                         AND COALESCE(NULLIF(%(date_to)s::text, '')::date, 'infinity'::date)
  AND (NULLIF(%(currency)s::text, '') IS NULL OR c.currency_code = %(currency)s::text)
GROUP BY 1, 2
ORDER BY 1, 2;
