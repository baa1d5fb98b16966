-- staff_leaderboard: which sales staff sell the most, and in which departments are they?
-- Answers: per sales staff member (with department and location), the sales value
-- (units_sold * unit_price), orders and units over fact_sales_order_current, ranked by value
-- (rank 1 = highest; ties share a rank, listed by staff_id); one page of rows, each carrying
-- total_rows (the row count before paging). Staff deleted at the source (a dim_staff deletion
-- marker in reveries_deleted_rows) are left out.
-- Parameters (NULL or empty = no bound):
--   date_from, date_to  inclusive bounds on created_date (date)
--   currency            a currency_code such as GBP (text)
--   limit, offset       the page: at most limit rows after skipping offset rows (int)
-- Filters are written so that a NULL parameter folds away at plan time, and rows are aggregated
-- by key before dimensions are joined: the planner cannot estimate filters on the DISTINCT ON view.
SELECT rank() OVER (ORDER BY a.sales_value DESC)  AS rank,
       st.staff_id,
       st.first_name || ' ' || st.last_name       AS staff_name,
       st.department_name,
       st.location,
       a.sales_value,
       a.orders,
       a.units_sold,
       count(*) OVER ()                           AS total_rows
FROM (
    SELECT s.sales_staff_id,
           sum(s.units_sold * s.unit_price) AS sales_value,
           count(*)                         AS orders,
           sum(s.units_sold)                AS units_sold
    FROM fact_sales_order_current AS s
    WHERE (NULLIF(%(date_from)s::text, '') IS NULL OR s.created_date >= NULLIF(%(date_from)s::text, '')::date)
      AND (NULLIF(%(date_to)s::text, '') IS NULL OR s.created_date <= NULLIF(%(date_to)s::text, '')::date)
      AND (NULLIF(%(currency)s::text, '') IS NULL
           OR s.currency_id IN (SELECT currency_id FROM dim_currency WHERE currency_code = %(currency)s::text))
    GROUP BY s.sales_staff_id
) AS a
JOIN dim_staff AS st ON st.staff_id = a.sales_staff_id
WHERE NOT EXISTS (SELECT 1 FROM reveries_deleted_rows AS x
                  WHERE x.star_table = 'dim_staff' AND x.natural_id = st.staff_id)
ORDER BY a.sales_value DESC, st.staff_id
LIMIT NULLIF(%(limit)s::text, '')::bigint
OFFSET COALESCE(NULLIF(%(offset)s::text, '')::bigint, 0);
