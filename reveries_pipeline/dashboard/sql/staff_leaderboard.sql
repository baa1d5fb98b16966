-- staff_leaderboard: which sales staff sell the most, and in which departments are they?
-- Answers: per sales staff member (with department and location), the sales value
-- (units_sold * unit_price), orders and units over fact_sales_order_current, ranked by value
-- (rank 1 = highest; ties share a rank, listed by staff_id); one page of rows, each carrying
-- total_rows (the row count before paging).
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   limit, offset       the page: at most limit rows after skipping offset rows (int)
SELECT rank() OVER (ORDER BY sum(s.units_sold * s.unit_price) DESC) AS rank,
       st.staff_id,
       st.first_name || ' ' || st.last_name AS staff_name,
       st.department_name,
       st.location,
       sum(s.units_sold * s.unit_price)     AS sales_value,
       count(*)                             AS orders,
       sum(s.units_sold)                    AS units_sold,
       count(*) OVER ()                     AS total_rows
FROM fact_sales_order_current AS s
JOIN dim_currency AS c ON c.currency_id = s.currency_id
JOIN dim_staff AS st ON st.staff_id = s.sales_staff_id
WHERE s.created_date BETWEEN COALESCE(NULLIF(%(date_from)s::text, '')::date, '-infinity'::date)
                         AND COALESCE(NULLIF(%(date_to)s::text, '')::date, 'infinity'::date)
  AND (NULLIF(%(currency)s::text, '') IS NULL OR c.currency_code = %(currency)s::text)
GROUP BY st.staff_id, st.first_name, st.last_name, st.department_name, st.location
ORDER BY sales_value DESC, st.staff_id
LIMIT NULLIF(%(limit)s::text, '')::bigint
OFFSET COALESCE(NULLIF(%(offset)s::text, '')::bigint, 0);
