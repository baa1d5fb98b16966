-- last_loaded: when was the warehouse last loaded?
-- Answers: the newest loaded_at in the load ledger (NULL when nothing was ever loaded),
-- and how many batches the ledger holds.
-- Parameters: none.
SELECT max(loaded_at) AS last_loaded_at,
       count(*)       AS batches
FROM reveries_load_ledger;
