-- date_bounds: what range of created dates does the warehouse hold?
-- Answers: the earliest and latest created_date over all sales and purchase order versions
-- (the default of the date-range filter). Both NULL on an empty warehouse.
-- Parameters: none.
SELECT min(d) AS first_date, max(d) AS last_date
FROM (
    SELECT min(created_date) AS d FROM fact_sales_order
    UNION ALL SELECT max(created_date) FROM fact_sales_order
    UNION ALL SELECT min(created_date) FROM fact_purchase_order
    UNION ALL SELECT max(created_date) FROM fact_purchase_order
) AS bounds;
