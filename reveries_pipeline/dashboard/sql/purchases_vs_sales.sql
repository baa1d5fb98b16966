-- purchases_vs_sales: how do purchases compare with sales, month by month?
-- Answers: per calendar month of created_date, the sales value of the current sales orders, the
-- purchase value of the current purchase orders and sales minus purchases, read from
-- reporting_sales_by_day and reporting_purchases_by_day (current orders summed by created date and
-- currency); a month with only one side shows 0 for the other. With no currency filter both sides are
-- converted into the reporting currency at each order's created-date rate, and unconverted_orders
-- counts the month's orders (sales and purchases) whose date has no rate yet (left out of the values).
-- With a currency filter: that currency's native values. shown_in names the currency shown. Never a
-- sum of different currencies; rounded once, at the end.
-- Parameters (NULL or empty = no bound / no filter):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   reporting_currency  GBP, EUR or USD (text; NULL or empty = GBP)
WITH days AS (
    SELECT a.created_date, a.currency_id, a.native_value, a.value_gbp, a.value_eur, a.value_usd,
           a.unconverted_rows, 1 AS sales_side
    FROM reporting_sales_by_day AS a
    UNION ALL
    SELECT p.created_date, p.currency_id, p.native_value, p.value_gbp, p.value_eur, p.value_usd,
           p.unconverted_rows, 0
    FROM reporting_purchases_by_day AS p
), shown AS (
    SELECT date_trunc('month', d.created_date)::date AS month,
           d.sales_side,
           CASE
               WHEN NULLIF(%(currency)s::text, '') IS NOT NULL THEN d.native_value
               WHEN COALESCE(NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') = 'GBP' THEN d.value_gbp
               WHEN upper(%(reporting_currency)s::text) = 'EUR' THEN d.value_eur
               WHEN upper(%(reporting_currency)s::text) = 'USD' THEN d.value_usd END AS money,
           d.unconverted_rows
    FROM days AS d
    WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR d.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR d.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR d.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
)
SELECT month,
       round(COALESCE(sum(money) FILTER (WHERE sales_side = 1), 0), 2)   AS sales_value,
       round(COALESCE(sum(money) FILTER (WHERE sales_side = 0), 0), 2)   AS purchase_value,
       round(COALESCE(sum(money) FILTER (WHERE sales_side = 1), 0)
             - COALESCE(sum(money) FILTER (WHERE sales_side = 0), 0), 2) AS net_value,
       COALESCE(NULLIF(%(currency)s::text, ''),
                NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP')  AS shown_in,
       CASE WHEN NULLIF(%(currency)s::text, '') IS NULL
            THEN sum(unconverted_rows) ELSE 0 END::bigint                AS unconverted_orders
FROM shown
GROUP BY month
ORDER BY month;
