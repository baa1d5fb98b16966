-- outstanding_payments: how much is owed and overdue, and for how long?
-- Answers: payments whose current version (fact_payment_current) is unpaid (paid = false) and
-- whose payment_date is before as_of, grouped into ageing buckets by days overdue
-- (as_of - payment_date: 0-30, 31-60, 61-90, 90+) and currency: count, amount, oldest date.
-- Parameters:
--   as_of  the date ageing is measured from (date; NULL or empty = current_date)
WITH overdue AS (
    SELECT p.payment_id,
           p.payment_amount,
           p.payment_date,
           c.currency_code,
           COALESCE(NULLIF(%(as_of)s::text, '')::date, current_date) - p.payment_date AS days_overdue
    FROM fact_payment_current AS p
    JOIN dim_currency AS c ON c.currency_id = p.currency_id
    WHERE NOT p.paid
      AND p.payment_date < COALESCE(NULLIF(%(as_of)s::text, '')::date, current_date)
)
SELECT CASE WHEN days_overdue <= 30 THEN '0-30'
            WHEN days_overdue <= 60 THEN '31-60'
            WHEN days_overdue <= 90 THEN '61-90'
            ELSE '90+' END          AS bucket,
       CASE WHEN days_overdue <= 30 THEN 1
            WHEN days_overdue <= 60 THEN 2
            WHEN days_overdue <= 90 THEN 3
            ELSE 4 END              AS bucket_order,
       currency_code,
       count(*)                     AS payments,
       sum(payment_amount)          AS amount,
       min(payment_date)            AS oldest_payment_date
FROM overdue
GROUP BY 1, 2, 3
ORDER BY bucket_order, currency_code;
