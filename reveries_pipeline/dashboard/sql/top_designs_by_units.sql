-- top_designs_by_units: which designs sell best by units sold?
-- Answers: designs ranked by units sold over the current sales orders, with sales value, units and
-- number of orders; ties broken by design_id. Designs deleted at the source (a dim_design deletion
-- marker in reveries_deleted_rows) are left out.
-- With no date bound the figures come from reporting_sales_by_design_converted (the current orders
-- summed by design over every currency, converted) or, with a currency filter, reporting_sales_by_design
-- (by design and currency); with a date bound, from the current orders of the range
-- (fact_sales_order_current, by its created_date index) converted the same way. Only one of the three
-- is read: the parameters fold the others away at plan time (queries are never prepared).
-- With no currency filter, sales_value is converted into the reporting currency at each order's
-- created-date rate, and unconverted_orders counts the orders whose date has no rate yet (left out of
-- the value). With a currency filter it is that currency's native value. shown_in names the currency
-- shown. Never a sum of different currencies; summed unrounded, rounded once at the end.
-- Parameters (NULL or empty = no bound / no filter / no limit):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   reporting_currency  GBP, EUR or USD (text; NULL or empty = GBP)
--   limit               how many designs to return (int)
WITH totals AS (
    -- No date bound, no currency filter: the converted pre-aggregate, one row per design.
    SELECT a.design_id,
           CASE WHEN COALESCE(NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') = 'GBP' THEN a.value_gbp
                WHEN upper(%(reporting_currency)s::text) = 'EUR' THEN a.value_eur
                WHEN upper(%(reporting_currency)s::text) = 'USD' THEN a.value_usd END AS value,
           a.units AS units_sold, a.row_count AS orders, a.unconverted_rows AS unconverted_orders
    FROM reporting_sales_by_design_converted AS a
    WHERE NULLIF(%(date_from)s::text, '') IS NULL AND NULLIF(%(date_to)s::text, '') IS NULL
      AND NULLIF(%(currency)s::text, '') IS NULL
    UNION ALL
    -- No date bound, one currency: that currency's rows of the pre-aggregate by design and currency.
    SELECT a.design_id, a.native_value, a.units, a.row_count, 0
    FROM reporting_sales_by_design AS a
    WHERE NULLIF(%(date_from)s::text, '') IS NULL AND NULLIF(%(date_to)s::text, '') IS NULL
      AND a.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text)
    UNION ALL
    -- A date bound: the current orders of the range, converted as the pre-aggregates convert them.
    SELECT s.design_id,
           COALESCE(sum(CASE
               WHEN NULLIF(%(currency)s::text, '') IS NOT NULL THEN s.units_sold * s.unit_price
               WHEN COALESCE(NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') = 'GBP'
                   THEN s.units_sold * s.unit_price * f.gbp_per_eur / f.units_per_eur
               WHEN upper(%(reporting_currency)s::text) = 'EUR' THEN s.units_sold * s.unit_price / f.units_per_eur
               WHEN upper(%(reporting_currency)s::text) = 'USD'
                   THEN s.units_sold * s.unit_price * f.usd_per_eur / f.units_per_eur END), 0),
           sum(s.units_sold)::bigint,
           count(*),
           CASE WHEN NULLIF(%(currency)s::text, '') IS NULL
                THEN count(*) FILTER (WHERE f.currency_id IS NULL) ELSE 0 END
    FROM fact_sales_order_current AS s
    LEFT JOIN reporting_fx AS f ON f.currency_id = s.currency_id AND f.rate_day = s.created_date
    WHERE (NULLIF(%(date_from)s::text, '') IS NOT NULL OR NULLIF(%(date_to)s::text, '') IS NOT NULL)
      AND (NULLIF(%(date_from)s::text, '') IS NULL OR s.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR s.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR s.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
    GROUP BY s.design_id
), top AS (
    -- ranked before the names are joined: only the designs shown are looked up
    SELECT a.*
    FROM totals AS a
    WHERE NOT EXISTS (SELECT 1 FROM reveries_deleted_rows AS x
                      WHERE x.star_table = 'dim_design' AND x.natural_id = a.design_id)
    ORDER BY a.units_sold DESC, round(a.value, 2) DESC, a.design_id
    LIMIT NULLIF(%(limit)s::text, '')::bigint
)
SELECT d.design_id, d.design_name, round(a.value, 2) AS sales_value, a.units_sold, a.orders,
       COALESCE(NULLIF(%(currency)s::text, ''), NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') AS shown_in,
       a.unconverted_orders
FROM top AS a
JOIN dim_design AS d ON d.design_id = a.design_id
ORDER BY a.units_sold DESC, round(a.value, 2) DESC, a.design_id;
