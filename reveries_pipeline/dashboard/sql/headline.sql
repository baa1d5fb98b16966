-- headline: how much did we sell in the filter?
-- Answers: the sales value, number of orders and units sold of the current sales orders, read from
-- reporting_sales_by_day (the current orders summed by created date and currency; exact for any range).
-- With no currency filter, sales_value is converted into the reporting currency at each order's
-- created-date rate, and unconverted_orders counts the orders whose date has no rate yet (left out of
-- the value, still counted in orders and units). With a currency filter it is that currency's native
-- value. shown_in names the currency shown. Never a sum of different currencies; rounded once, at the end.
-- Parameters (NULL or empty = no bound / no filter):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   reporting_currency  GBP, EUR or USD (text; NULL or empty = GBP)
SELECT round(COALESCE(sum(CASE
           WHEN NULLIF(%(currency)s::text, '') IS NOT NULL THEN a.native_value
           WHEN COALESCE(NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') = 'GBP' THEN a.value_gbp
           WHEN upper(%(reporting_currency)s::text) = 'EUR' THEN a.value_eur
           WHEN upper(%(reporting_currency)s::text) = 'USD' THEN a.value_usd END), 0), 2) AS sales_value,
       COALESCE(sum(a.row_count), 0)::bigint                                              AS orders,
       COALESCE(sum(a.units), 0)::bigint                                                  AS units_sold,
       COALESCE(NULLIF(%(currency)s::text, ''),
                NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP')                   AS shown_in,
       CASE WHEN NULLIF(%(currency)s::text, '') IS NULL
            THEN COALESCE(sum(a.unconverted_rows), 0) ELSE 0 END::bigint                  AS unconverted_orders
FROM reporting_sales_by_day AS a
WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR a.created_date >= NULLIF(%(date_from)s::text, '')::date)
  AND (NULLIF(%(date_to)s::text, '') IS NULL OR a.created_date <= NULLIF(%(date_to)s::text, '')::date)
  AND (NULLIF(%(currency)s::text, '') IS NULL
       OR a.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text));
