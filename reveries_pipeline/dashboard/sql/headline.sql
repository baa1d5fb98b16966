-- headline: how much did we sell in the filter?
-- Answers: total sales value (units_sold * unit_price, summed over currencies), number of orders
-- and units sold over the current version of each sales order (fact_sales_order_current).
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
SELECT COALESCE(sum(s.units_sold * s.unit_price), 0) AS sales_value,
       count(*)                                      AS orders,
       COALESCE(sum(s.units_sold), 0)                AS units_sold
FROM fact_sales_order_current AS s
WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR s.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR s.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR s.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text));
