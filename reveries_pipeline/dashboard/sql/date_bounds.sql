-- date_bounds: what range of created dates does the warehouse hold?
-- Answers: the earliest and latest created_date of the current sales and purchase orders, read from
-- reporting_sales_by_day and reporting_purchases_by_day (min and max are probes of their primary keys,
-- which lead with created_date). The default of the date-range filter: the dashboard passes a range
-- equal to these bounds as no bound at all. Both NULL on an empty warehouse.
-- Parameters: none.
SELECT min(d) AS first_date, max(d) AS last_date
FROM (
    SELECT min(created_date) AS d FROM reporting_sales_by_day
    UNION ALL SELECT max(created_date) FROM reporting_sales_by_day
    UNION ALL SELECT min(created_date) FROM reporting_purchases_by_day
    UNION ALL SELECT max(created_date) FROM reporting_purchases_by_day
) AS bounds;
