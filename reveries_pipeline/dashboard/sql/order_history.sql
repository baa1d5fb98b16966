-- order_history: how has one sales order changed over time?
-- Answers: every version of the order in fact_sales_order, oldest first (ordered by
-- sales_record_id), numbered from 1, with its value, design and currency, and is_current marking
-- the version fact_sales_order_current shows (none, once the order is deleted at the source).
-- Parameters:
--   sales_order_id  the order (int)
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
       d.design_name,
       s.agreed_payment_date,
       s.agreed_delivery_date,
       s.agreed_delivery_location_id,
       COALESCE(s.sales_record_id = cur.sales_record_id, false)    AS is_current
FROM fact_sales_order AS s
JOIN dim_currency AS c ON c.currency_id = s.currency_id
JOIN dim_design AS d ON d.design_id = s.design_id
LEFT JOIN fact_sales_order_current AS cur ON cur.sales_order_id = s.sales_order_id
WHERE s.sales_order_id = %(sales_order_id)s::int
ORDER BY s.sales_record_id;
