-- sales_by_location: where are our customers? Sales by counterparty country and city.
-- Answers: per counterparty legal country and city, the sales value, orders and units of the current
-- sales orders, largest value first; one page of rows, each carrying total_rows (the row count before
-- paging). Counterparties deleted at the source (a dim_counterparty deletion marker in
-- reveries_deleted_rows) are left out.
-- With no date bound the figures come from reporting_sales_by_counterparty (the current orders summed by counterparty and
-- currency); with a date bound, from the current orders of the range (fact_sales_order_current, by
-- its created_date index) converted the same way. Only one of the two is read: a NULL bound folds the
-- other away at plan time (queries are never prepared).
-- With no currency filter, sales_value is converted into the reporting currency at each order's
-- created-date rate, and unconverted_orders counts the orders whose date has no rate yet (left out of
-- the value). With a currency filter it is that currency's native value. shown_in names the currency
-- shown. Never a sum of different currencies; summed unrounded, rounded once at the end.
-- Parameters (NULL or empty = no bound / no filter):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   reporting_currency  GBP, EUR or USD (text; NULL or empty = GBP)
--   limit, offset       the page: at most limit rows after skipping offset rows (int)
WITH members AS (
    -- No date bound: the pre-aggregate, whole.
    SELECT a.counterparty_id, a.currency_id, a.row_count, a.units, a.native_value, a.value_gbp, a.value_eur,
           a.value_usd, a.unconverted_rows
    FROM reporting_sales_by_counterparty AS a
    WHERE NULLIF(%(date_from)s::text, '') IS NULL AND NULLIF(%(date_to)s::text, '') IS NULL
    UNION ALL
    -- A date bound: the current orders of the range, converted as the pre-aggregate converts them.
    SELECT s.counterparty_id, s.currency_id, 1, s.units_sold, s.units_sold * s.unit_price,
           COALESCE(s.units_sold * s.unit_price * f.gbp_per_eur / f.units_per_eur, 0),
           COALESCE(s.units_sold * s.unit_price / f.units_per_eur, 0),
           COALESCE(s.units_sold * s.unit_price * f.usd_per_eur / f.units_per_eur, 0),
           CASE WHEN f.currency_id IS NULL THEN 1 ELSE 0 END
    FROM fact_sales_order_current AS s
    LEFT JOIN reporting_fx AS f ON f.currency_id = s.currency_id AND f.rate_day = s.created_date
    WHERE (NULLIF(%(date_from)s::text, '') IS NOT NULL OR NULLIF(%(date_to)s::text, '') IS NOT NULL)
      AND (NULLIF(%(date_from)s::text, '') IS NULL OR s.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR s.created_date <= NULLIF(%(date_to)s::text, '')::date)
), totals AS (
    SELECT m.counterparty_id,
           sum(CASE
               WHEN NULLIF(%(currency)s::text, '') IS NOT NULL THEN m.native_value
               WHEN COALESCE(NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') = 'GBP' THEN m.value_gbp
               WHEN upper(%(reporting_currency)s::text) = 'EUR' THEN m.value_eur
               WHEN upper(%(reporting_currency)s::text) = 'USD' THEN m.value_usd END) AS value,
           sum(m.units)::bigint           AS units_sold,
           sum(m.row_count)::bigint       AS orders,
           CASE WHEN NULLIF(%(currency)s::text, '') IS NULL
                THEN sum(m.unconverted_rows) ELSE 0 END::bigint AS unconverted_orders
    FROM members AS m
    WHERE NULLIF(%(currency)s::text, '') IS NULL
       OR m.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text)
    GROUP BY m.counterparty_id
)
SELECT cp.counterparty_legal_country  AS country,
       cp.counterparty_legal_city     AS city,
       round(sum(a.value), 2)         AS sales_value,
       sum(a.orders)::bigint          AS orders,
       sum(a.units_sold)::bigint      AS units_sold,
       COALESCE(NULLIF(%(currency)s::text, ''), NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') AS shown_in,
       sum(a.unconverted_orders)::bigint AS unconverted_orders,
       count(*) OVER ()               AS total_rows
FROM totals AS a
JOIN dim_counterparty AS cp ON cp.counterparty_id = a.counterparty_id
WHERE NOT EXISTS (SELECT 1 FROM reveries_deleted_rows AS x
                  WHERE x.star_table = 'dim_counterparty' AND x.natural_id = cp.counterparty_id)
GROUP BY cp.counterparty_legal_country, cp.counterparty_legal_city
ORDER BY sales_value DESC, country, city
LIMIT NULLIF(%(limit)s::text, '')::bigint
OFFSET COALESCE(NULLIF(%(offset)s::text, '')::bigint, 0);
