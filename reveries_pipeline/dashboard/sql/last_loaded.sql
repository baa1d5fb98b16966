-- last_loaded: when was the warehouse last loaded?
-- Answers: the newest loaded_at in the load ledger, NULL when nothing was ever loaded
-- (one probe of reveries_load_ledger_loaded_at_idx, from the warehouse schema).
-- Parameters: none.
SELECT max(loaded_at) AS last_loaded_at
FROM reveries_load_ledger;
