-- Indexes the dashboard relies on, applied idempotently when the dashboard starts (and by the
-- benchmark). The warehouse DDL belongs to the loader; these only speed up reads.
--
-- "Warehouse last loaded at": max(loaded_at) becomes a single index probe instead of a scan of
-- the whole ledger (one row per batch, so it grows with every load).
CREATE INDEX IF NOT EXISTS reveries_load_ledger_loaded_at_idx
    ON reveries_load_ledger (loaded_at);

-- The fact_*_current views are DISTINCT ON (natural id) ORDER BY natural id, last updated DESC,
-- record id DESC. An index in exactly that order lets the planner read the newest version of
-- each id straight off the index, with no sort of the whole fact table.
CREATE INDEX IF NOT EXISTS fact_sales_order_current_idx
    ON fact_sales_order (sales_order_id, last_updated_date DESC, last_updated_time DESC, sales_record_id DESC);
CREATE INDEX IF NOT EXISTS fact_purchase_order_current_idx
    ON fact_purchase_order (purchase_order_id, last_updated_date DESC, last_updated_time DESC,
                            purchase_record_id DESC);
CREATE INDEX IF NOT EXISTS fact_payment_current_idx
    ON fact_payment (payment_id, last_updated_date DESC, last_updated DESC, payment_record_id DESC);

-- The default date range (date_bounds.sql): min/max(created_date) become index probes.
CREATE INDEX IF NOT EXISTS fact_sales_order_created_date_idx ON fact_sales_order (created_date);
CREATE INDEX IF NOT EXISTS fact_purchase_order_created_date_idx ON fact_purchase_order (created_date);
