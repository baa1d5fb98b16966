-- sales_by_location: where are our customers? Sales by counterparty country and city.
-- Answers: per counterparty legal country and city, the sales value (units_sold * unit_price),
-- orders and units over fact_sales_order_current, largest value first; one page of rows, each
-- carrying total_rows (the row count before paging).
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   limit, offset       the page: at most limit rows after skipping offset rows (int)
SELECT cp.counterparty_legal_country      AS country,
       cp.counterparty_legal_city         AS city,
       sum(s.units_sold * s.unit_price)   AS sales_value,
       count(*)                           AS orders,
       sum(s.units_sold)                  AS units_sold,
       count(*) OVER ()                   AS total_rows
FROM fact_sales_order_current AS s
JOIN dim_currency AS c ON c.currency_id = s.currency_id
JOIN dim_counterparty AS cp ON cp.counterparty_id = s.counterparty_id
WHERE s.created_date BETWEEN COALESCE(NULLIF(%(date_from)s::text, '')::date, '-infinity'::date)
                         AND COALESCE(NULLIF(%(date_to)s::text, '')::date, 'infinity'::date)
  AND (NULLIF(%(currency)s::text, '') IS NULL OR c.currency_code = %(currency)s::text)
GROUP BY cp.counterparty_legal_country, cp.counterparty_legal_city
ORDER BY sales_value DESC, country, city
LIMIT NULLIF(%(limit)s::text, '')::bigint
OFFSET COALESCE(NULLIF(%(offset)s::text, '')::bigint, 0);
