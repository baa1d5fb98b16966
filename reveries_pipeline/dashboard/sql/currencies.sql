-- currencies: which currency codes can the currency filter offer?
-- Answers: every currency code of a current sales or purchase order (a row in reporting_sales_by_day
-- or reporting_purchases_by_day), alphabetically, except currencies deleted at the source (a
-- dim_currency deletion marker in reveries_deleted_rows).
-- Parameters: none.
SELECT c.currency_code
FROM dim_currency AS c
WHERE (EXISTS (SELECT 1 FROM reporting_sales_by_day AS s WHERE s.currency_id = c.currency_id)
       OR EXISTS (SELECT 1 FROM reporting_purchases_by_day AS p WHERE p.currency_id = c.currency_id))
  AND NOT EXISTS (SELECT 1 FROM reveries_deleted_rows AS x
                  WHERE x.star_table = 'dim_currency' AND x.natural_id = c.currency_id)
ORDER BY c.currency_code;
