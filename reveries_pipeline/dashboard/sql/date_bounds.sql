-- date_bounds: what range of created dates does the warehouse hold?
-- Answers: the earliest and latest created_date over current sales and purchase orders
-- (the default of the date-range filter). Both NULL on an empty warehouse.
-- Parameters: none.
SELECT min(d) AS first_date, max(d) AS last_date
FROM (
    SELECT min(created_date) AS d FROM fact_sales_order_current
    UNION ALL SELECT max(created_date) FROM fact_sales_order_current
    UNION ALL SELECT min(created_date) FROM fact_purchase_order_current
    UNION ALL SELECT max(created_date) FROM fact_purchase_order_current
) AS bounds;
