-- currencies: which currency codes can the currency filter offer?
-- Answers: every currency code used by any version of a sales or purchase order, alphabetically,
-- except currencies deleted at the source (a dim_currency deletion marker in reveries_deleted_rows).
-- Parameters: none.
SELECT DISTINCT c.currency_code
FROM dim_currency AS c
WHERE (EXISTS (SELECT 1 FROM fact_sales_order AS s WHERE s.currency_id = c.currency_id)
       OR EXISTS (SELECT 1 FROM fact_purchase_order AS p WHERE p.currency_id = c.currency_id))
  AND NOT EXISTS (SELECT 1 FROM reveries_deleted_rows AS x
                  WHERE x.star_table = 'dim_currency' AND x.natural_id = c.currency_id)
ORDER BY c.currency_code;
