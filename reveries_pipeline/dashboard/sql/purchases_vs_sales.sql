-- purchases_vs_sales: how do purchases compare with sales, month by month?
-- Answers: per calendar month of created_date and currency_code, the sales value
-- (units_sold * unit_price over fact_sales_order_current), the purchase value
-- (item_quantity * item_unit_price over fact_purchase_order_current) and sales minus purchases;
-- a month with only one side shows 0 for the other.
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
-- Filters are written so that a NULL parameter folds away at plan time, and rows are aggregated
-- by key before dimensions are joined: the planner cannot estimate filters on the DISTINCT ON view.
WITH sales AS (
    SELECT date_trunc('month', s.created_date)::date AS month,
           s.currency_id,
           sum(s.units_sold * s.unit_price)          AS sales_value
    FROM fact_sales_order_current AS s
    WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR s.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR s.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR s.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
    GROUP BY 1, 2
), purchases AS (
    SELECT date_trunc('month', p.created_date)::date AS month,
           p.currency_id,
           sum(p.item_quantity * p.item_unit_price)  AS purchase_value
    FROM fact_purchase_order_current AS p
    WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR p.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR p.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR p.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
    GROUP BY 1, 2
), both_sides AS (
    SELECT COALESCE(s.month, p.month)             AS month,
           COALESCE(s.currency_id, p.currency_id) AS currency_id,
           COALESCE(s.sales_value, 0)             AS sales_value,
           COALESCE(p.purchase_value, 0)          AS purchase_value
    FROM sales AS s
    FULL JOIN purchases AS p ON p.month = s.month AND p.currency_id = s.currency_id
)
SELECT b.month,
       c.currency_code,
       b.sales_value,
       b.purchase_value,
       b.sales_value - b.purchase_value AS net_value
FROM both_sides AS b
JOIN dim_currency AS c ON c.currency_id = b.currency_id
ORDER BY b.month, c.currency_code;
