-- sales_by_location: where are our customers? Sales by counterparty country and city.
-- Answers: per counterparty legal country and city, the sales value (units_sold * unit_price),
-- orders and units over fact_sales_order_current, largest value first; one page of rows, each
-- carrying total_rows (the row count before paging). Counterparties deleted at the source (a
-- dim_counterparty deletion marker in reveries_deleted_rows) are left out.
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   limit, offset       the page: at most limit rows after skipping offset rows (int)
-- Filters are written so that a NULL parameter folds away at plan time, and rows are aggregated
-- by key before dimensions are joined: the planner cannot estimate filters on the DISTINCT ON view.
SELECT cp.counterparty_legal_country AS country,
       cp.counterparty_legal_city    AS city,
       sum(a.sales_value)            AS sales_value,
       sum(a.orders)::bigint         AS orders,
       sum(a.units_sold)::bigint     AS units_sold,
       count(*) OVER ()              AS total_rows
FROM (
    SELECT s.counterparty_id,
           sum(s.units_sold * s.unit_price) AS sales_value,
           count(*)                         AS orders,
           sum(s.units_sold)                AS units_sold
    FROM fact_sales_order_current AS s
    WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR s.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR s.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR s.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
    GROUP BY s.counterparty_id
) AS a
JOIN dim_counterparty AS cp ON cp.counterparty_id = a.counterparty_id
WHERE NOT EXISTS (SELECT 1 FROM reveries_deleted_rows AS x
                  WHERE x.star_table = 'dim_counterparty' AND x.natural_id = cp.counterparty_id)
GROUP BY cp.counterparty_legal_country, cp.counterparty_legal_city
ORDER BY sales_value DESC, country, city
LIMIT NULLIF(%(limit)s::text, '')::bigint
OFFSET COALESCE(NULLIF(%(offset)s::text, '')::bigint, 0);
