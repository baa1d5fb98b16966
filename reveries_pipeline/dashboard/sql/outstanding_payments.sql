-- outstanding_payments: how much is owed and overdue, and for how long?
-- Answers: the current payments that are unpaid (paid = false) and whose payment_date is before
-- as_of, read from reporting_unpaid_payments_by_day (those payments summed by payment date and
-- currency), grouped into ageing buckets by days overdue (as_of - payment_date: 0-30, 31-60, 61-90,
-- 90+): count, amount, oldest payment date. With no currency filter the amount is converted into the
-- reporting currency at each payment's created-date rate, and unconverted_payments counts the
-- payments whose date has no rate yet (left out of the amount). With a currency filter it is that
-- currency's native amount. shown_in names the currency shown. Never a sum of different currencies;
-- summed unrounded, rounded once at the end.
-- Parameters:
--   as_of               the date ageing is measured from (date; NULL or empty = current_date)
--   currency            a currency_code such as GBP (text; NULL or empty = no filter)
--   reporting_currency  GBP, EUR or USD (text; NULL or empty = GBP)
WITH overdue AS (
    SELECT a.payment_date,
           a.row_count,
           CASE
               WHEN NULLIF(%(currency)s::text, '') IS NOT NULL THEN a.native_value
               WHEN COALESCE(NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') = 'GBP' THEN a.value_gbp
               WHEN upper(%(reporting_currency)s::text) = 'EUR' THEN a.value_eur
               WHEN upper(%(reporting_currency)s::text) = 'USD' THEN a.value_usd END AS money,
           a.unconverted_rows,
           COALESCE(NULLIF(%(as_of)s::text, '')::date, current_date) - a.payment_date AS days_overdue
    FROM reporting_unpaid_payments_by_day AS a
    WHERE a.payment_date < COALESCE(NULLIF(%(as_of)s::text, '')::date, current_date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR a.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
)
SELECT CASE WHEN days_overdue <= 30 THEN '0-30'
            WHEN days_overdue <= 60 THEN '31-60'
            WHEN days_overdue <= 90 THEN '61-90'
            ELSE '90+' END                                               AS bucket,
       CASE WHEN days_overdue <= 30 THEN 1
            WHEN days_overdue <= 60 THEN 2
            WHEN days_overdue <= 90 THEN 3
            ELSE 4 END                                                   AS bucket_order,
       sum(row_count)::bigint                                            AS payments,
       round(sum(money), 2)                                              AS amount,
       COALESCE(NULLIF(%(currency)s::text, ''),
                NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP')  AS shown_in,
       CASE WHEN NULLIF(%(currency)s::text, '') IS NULL
            THEN sum(unconverted_rows) ELSE 0 END::bigint                AS unconverted_payments,
       min(payment_date)                                                 AS oldest_payment_date
FROM overdue
GROUP BY 1, 2
ORDER BY bucket_order;
