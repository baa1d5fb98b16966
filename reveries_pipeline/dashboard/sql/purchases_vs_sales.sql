-- purchases_vs_sales: how do purchases compare with sales, month by month?
-- Answers: per calendar month of created_date and currency_code, the sales value
-- (units_sold * unit_price over fact_sales_order_current), the purchase value
-- (item_quantity * item_unit_price over fact_purchase_order_current) and sales minus purchases;
-- a month with only one side shows 0 for the other.
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
WITH sales AS (
    SELECT date_trunc('month', s.created_date)::date AS month,
           c.currency_code,
           sum(s.units_sold * s.unit_price)          AS sales_value
    FROM fact_sales_order_current AS s
    JOIN dim_currency AS c ON c.currency_id = s.currency_id
    WHERE s.created_date BETWEEN COALESCE(NULLIF(%(date_from)s::text, '')::date, '-infinity'::date)
                             AND COALESCE(NULLIF(%(date_to)s::text, '')::date, 'infinity'::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL OR c.currency_code = %(currency)s::text)
    GROUP BY 1, 2
), purchases AS (
    SELECT date_trunc('month', p.created_date)::date AS month,
           c.currency_code,
           sum(p.item_quantity * p.item_unit_price)  AS purchase_value
    FROM fact_purchase_order_current AS p
    JOIN dim_currency AS c ON c.currency_id = p.currency_id
    WHERE p.created_date BETWEEN COALESCE(NULLIF(%(date_from)s::text, '')::date, '-infinity'::date)
                             AND COALESCE(NULLIF(%(date_to)s::text, '')::date, 'infinity'::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL OR c.currency_code = %(currency)s::text)
    GROUP BY 1, 2
)
SELECT COALESCE(s.month, p.month)                                 AS month,
       COALESCE(s.currency_code, p.currency_code)                 AS currency_code,
       COALESCE(s.sales_value, 0)                                 AS sales_value,
       COALESCE(p.purchase_value, 0)                              AS purchase_value,
       COALESCE(s.sales_value, 0) - COALESCE(p.purchase_value, 0) AS net_value
FROM sales AS s
FULL JOIN purchases AS p ON p.month = s.month AND p.currency_code = s.currency_code
ORDER BY 1, 2;
