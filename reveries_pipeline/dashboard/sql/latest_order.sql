-- latest_order: which sales order changed most recently? (the default of the order-history panel)
-- Answers: the sales_order_id of the newest row in fact_sales_order (highest sales_record_id),
-- and how many versions of that order the warehouse holds. No row on an empty warehouse.
-- Parameters: none.
SELECT s.sales_order_id,
       (SELECT count(*) FROM fact_sales_order AS v WHERE v.sales_order_id = s.sales_order_id) AS versions
FROM fact_sales_order AS s
ORDER BY s.sales_record_id DESC
LIMIT 1;
