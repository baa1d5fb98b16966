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
JOIN dim_currency AS c ON c.currency_id = s.currency_id
WHERE s.created_date BETWEEN COALESCE(NULLIF(%(date_from)s::text, '')::date, '-infinity'::date)
                         AND COALESCE(NULLIF(%(date_to)s::text, '')::date, 'infinity'::date)
  AND (NULLIF(%(currency)s::text, '') IS NULL OR c.currency_code = %(currency)s::text);
