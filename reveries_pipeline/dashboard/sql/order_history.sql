-- order_history: how has one sales order changed over time?
-- Answers: every version of the order in fact_sales_order, oldest first (ordered by
-- sales_record_id), numbered from 1, with its value in its own currency, its value converted into the
-- reporting currency at the rate of its created date (converted_value, NULL while that day has no
-- rate; shown_in names the reporting currency, rate_date the ECB publication used), design and
-- currency, and is_current marking the version fact_sales_order_current holds (none, once the order
-- is deleted at the source). Primary-key lookups only.
-- Parameters:
--   sales_order_id      the order (int)
--   reporting_currency  GBP, EUR or USD (text; NULL or empty = GBP)
SELECT row_number() OVER (ORDER BY s.sales_record_id)             AS version,
       s.sales_record_id,
       s.sales_order_id,
       s.created_date,
       s.created_time,
       s.last_updated_date,
       s.last_updated_time,
       s.sales_staff_id,
       s.counterparty_id,
       s.units_sold,
       s.unit_price,
       c.currency_code,
       s.units_sold * s.unit_price                                 AS sales_value,
       round(CASE COALESCE(NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP')
                 WHEN 'GBP' THEN s.units_sold * s.unit_price * f.gbp_per_eur / f.units_per_eur
                 WHEN 'EUR' THEN s.units_sold * s.unit_price / f.units_per_eur
                 WHEN 'USD' THEN s.units_sold * s.unit_price * f.usd_per_eur / f.units_per_eur END, 2)
                                                                   AS converted_value,
       COALESCE(NULLIF(upper(%(reporting_currency)s::text), ''), 'GBP') AS shown_in,
       f.rate_date,
       d.design_name,
       s.agreed_payment_date,
       s.agreed_delivery_date,
       s.agreed_delivery_location_id,
       COALESCE(s.sales_record_id = cur.sales_record_id, false)    AS is_current
FROM fact_sales_order AS s
JOIN dim_currency AS c ON c.currency_id = s.currency_id
JOIN dim_design AS d ON d.design_id = s.design_id
LEFT JOIN fact_sales_order_current AS cur ON cur.sales_order_id = s.sales_order_id
LEFT JOIN reporting_fx AS f ON f.currency_id = s.currency_id AND f.rate_day = s.created_date
WHERE s.sales_order_id = %(sales_order_id)s::int
ORDER BY s.sales_record_id;
