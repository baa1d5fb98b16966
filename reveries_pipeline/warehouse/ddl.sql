-- The star-schema warehouse: three stars (sales, purchases, payments) over shared dimensions.
-- Names, types and nullability follow the reference warehouse. Idempotent: safe on a warehouse
-- that was built beforehand with this schema. Unqualified names resolve through search_path,
-- so a branch deployment can load into its own schema.
-- Applied only when reveries_schema_version (below) holds another digest of this file: its
-- CREATE INDEX and CREATE OR REPLACE VIEW lock out readers even when they change nothing.

CREATE TABLE IF NOT EXISTS dim_date (
    date_id     DATE PRIMARY KEY,
    year        INT NOT NULL,
    month       INT NOT NULL,
    day         INT NOT NULL,
    day_of_week INT NOT NULL,
    day_name    VARCHAR NOT NULL,
    month_name  VARCHAR NOT NULL,
    quarter     INT NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_staff (
    staff_id        INT PRIMARY KEY,
    first_name      VARCHAR NOT NULL,
    last_name       VARCHAR NOT NULL,
    department_name VARCHAR NOT NULL,
    location        VARCHAR NOT NULL,
    email_address   VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_location (
    location_id    INT PRIMARY KEY,
    address_line_1 VARCHAR NOT NULL,
    address_line_2 VARCHAR,
    district       VARCHAR,
    city           VARCHAR NOT NULL,
    postal_code    VARCHAR NOT NULL,
    country        VARCHAR NOT NULL,
    phone          VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_design (
    design_id     INT PRIMARY KEY,
    design_name   VARCHAR NOT NULL,
    file_location VARCHAR NOT NULL,
    file_name     VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_currency (
    currency_id   INT PRIMARY KEY,
    currency_code VARCHAR NOT NULL,
    currency_name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_counterparty (
    counterparty_id                   INT PRIMARY KEY,
    counterparty_legal_name           VARCHAR NOT NULL,
    counterparty_legal_address_line_1 VARCHAR NOT NULL,
    counterparty_legal_address_line_2 VARCHAR,
    counterparty_legal_district       VARCHAR,
    counterparty_legal_city           VARCHAR NOT NULL,
    counterparty_legal_postal_code    VARCHAR NOT NULL,
    counterparty_legal_country        VARCHAR NOT NULL,
    counterparty_legal_phone_number   VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_payment_type (
    payment_type_id   INT PRIMARY KEY,
    payment_type_name VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS dim_transaction (
    transaction_id    INT PRIMARY KEY,
    transaction_type  VARCHAR NOT NULL,
    sales_order_id    INT,
    purchase_order_id INT
);

CREATE TABLE IF NOT EXISTS fact_sales_order (
    sales_record_id             SERIAL PRIMARY KEY,
    sales_order_id              INT NOT NULL,
    created_date                DATE NOT NULL REFERENCES dim_date (date_id),
    created_time                TIME NOT NULL,
    last_updated_date           DATE NOT NULL REFERENCES dim_date (date_id),
    last_updated_time           TIME NOT NULL,
    sales_staff_id              INT NOT NULL REFERENCES dim_staff (staff_id),
    counterparty_id             INT NOT NULL REFERENCES dim_counterparty (counterparty_id),
    units_sold                  INT NOT NULL,
    unit_price                  NUMERIC(10, 2) NOT NULL,
    currency_id                 INT NOT NULL REFERENCES dim_currency (currency_id),
    design_id                   INT NOT NULL REFERENCES dim_design (design_id),
    agreed_payment_date         DATE NOT NULL REFERENCES dim_date (date_id),
    agreed_delivery_date        DATE NOT NULL REFERENCES dim_date (date_id),
    agreed_delivery_location_id INT NOT NULL REFERENCES dim_location (location_id)
);

CREATE TABLE IF NOT EXISTS fact_purchase_order (
    purchase_record_id          SERIAL PRIMARY KEY,
    purchase_order_id           INT NOT NULL,
    created_date                DATE NOT NULL REFERENCES dim_date (date_id),
    created_time                TIME NOT NULL,
    last_updated_date           DATE NOT NULL REFERENCES dim_date (date_id),
    last_updated_time           TIME NOT NULL,
    staff_id                    INT NOT NULL REFERENCES dim_staff (staff_id),
    counterparty_id             INT NOT NULL REFERENCES dim_counterparty (counterparty_id),
    item_code                   VARCHAR NOT NULL,
    item_quantity               INT NOT NULL,
    item_unit_price             NUMERIC NOT NULL,
    currency_id                 INT NOT NULL REFERENCES dim_currency (currency_id),
    agreed_delivery_date        DATE NOT NULL REFERENCES dim_date (date_id),
    agreed_payment_date         DATE NOT NULL REFERENCES dim_date (date_id),
    agreed_delivery_location_id INT NOT NULL REFERENCES dim_location (location_id)
);

CREATE TABLE IF NOT EXISTS fact_payment (
    payment_record_id SERIAL PRIMARY KEY,
    payment_id        INT NOT NULL,
    created_date      DATE NOT NULL REFERENCES dim_date (date_id),
    created_time      TIME NOT NULL,
    last_updated_date DATE NOT NULL REFERENCES dim_date (date_id),
    last_updated      TIME NOT NULL,
    transaction_id    INT NOT NULL REFERENCES dim_transaction (transaction_id),
    counterparty_id   INT NOT NULL REFERENCES dim_counterparty (counterparty_id),
    payment_amount    NUMERIC NOT NULL,
    currency_id       INT NOT NULL REFERENCES dim_currency (currency_id),
    payment_type_id   INT NOT NULL REFERENCES dim_payment_type (payment_type_id),
    paid              BOOLEAN NOT NULL,
    payment_date      DATE NOT NULL REFERENCES dim_date (date_id)
);

-- Versions are looked up by (natural id, last updated): for the _current views and for the
-- loader's guard against a version arriving twice.
CREATE INDEX IF NOT EXISTS fact_sales_order_version_idx
    ON fact_sales_order (sales_order_id, last_updated_date, last_updated_time);
CREATE INDEX IF NOT EXISTS fact_purchase_order_version_idx
    ON fact_purchase_order (purchase_order_id, last_updated_date, last_updated_time);
CREATE INDEX IF NOT EXISTS fact_payment_version_idx
    ON fact_payment (payment_id, last_updated_date, last_updated);

-- Deletion markers: a table of our own beside the reference schema (catalog.DELETED_ROWS). One row
-- per deleted source version: the star table whose primary source the row was, its natural id, and
-- the deleted version (last_updated split like a fact's). Appended like fact versions: a marker
-- already present, or seen twice, goes in once. A fact's _current view hides the version a marker
-- names; a dimension row stays (facts reference it) and its marker says it was deleted.
CREATE TABLE IF NOT EXISTS reveries_deleted_rows (
    star_table   TEXT NOT NULL,
    natural_id   INT NOT NULL,
    version_date DATE NOT NULL,
    version_time TIME NOT NULL,
    deleted_at   TIMESTAMP,
    PRIMARY KEY (star_table, natural_id, version_date, version_time)
);

-- The current version of each fact id: the newest version, unless a deletion marker names exactly
-- that version (a row re-inserted later has a newer version, and shows again). History stays in the
-- fact table. Kept by the loader in the load transaction, for the ids each load touches
-- (warehouse/reporting.py). They were views (DISTINCT ON over the whole history) before: a warehouse
-- built then has the views replaced here, and the migration fills the tables.
DO $$
DECLARE
    old_view TEXT;
BEGIN
    FOREACH old_view IN ARRAY ARRAY['fact_sales_order_current', 'fact_purchase_order_current', 'fact_payment_current']
    LOOP
        IF EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass(old_view) AND relkind = 'v') THEN
            EXECUTE format('DROP VIEW %I CASCADE', old_view);
        END IF;
    END LOOP;
END $$;

CREATE TABLE IF NOT EXISTS fact_sales_order_current (
    LIKE fact_sales_order,
    PRIMARY KEY (sales_order_id)
);
CREATE TABLE IF NOT EXISTS fact_purchase_order_current (
    LIKE fact_purchase_order,
    PRIMARY KEY (purchase_order_id)
);
CREATE TABLE IF NOT EXISTS fact_payment_current (
    LIKE fact_payment,
    PRIMARY KEY (payment_id)
);
-- A date range on the dashboard reads the current orders of that range.
CREATE INDEX IF NOT EXISTS fact_sales_order_current_created_idx ON fact_sales_order_current (created_date);
CREATE INDEX IF NOT EXISTS fact_purchase_order_current_created_idx ON fact_purchase_order_current (created_date);

-- The ECB's euro reference rates (reference/fx_rates): per currency and calendar day, the units of the
-- currency one euro buys, from the publication of rate_date (that day, or the latest earlier one on a
-- weekend or TARGET holiday). EUR itself is 1. Written per day by the FX asset, never by the loader.
CREATE TABLE IF NOT EXISTS reveries_fx_rate (
    currency_code VARCHAR NOT NULL,
    rate_day      DATE NOT NULL,
    rate_date     DATE NOT NULL,
    units_per_eur NUMERIC NOT NULL CHECK (units_per_eur > 0),
    PRIMARY KEY (currency_code, rate_day)
);

-- The rates dimension: joined to a fact by (currency_id, created_date = date_id).
CREATE OR REPLACE VIEW dim_fx_rate AS
SELECT c.currency_id, r.rate_day AS date_id, c.currency_code, r.rate_date, r.units_per_eur
FROM reveries_fx_rate AS r
JOIN dim_currency AS c ON c.currency_code = r.currency_code;

-- What converting a value of (currency_id, day) into each reporting currency needs: its rate and the
-- reporting currencies' rates of the same day. Cross rates go through EUR: value * gbp_per_eur /
-- units_per_eur, in decimal arithmetic, rounded only where a figure is shown.
CREATE OR REPLACE VIEW reporting_fx AS
SELECT d.currency_id, d.date_id AS rate_day, d.rate_date, d.units_per_eur,
       g.units_per_eur AS gbp_per_eur, u.units_per_eur AS usd_per_eur
FROM dim_fx_rate AS d
JOIN reveries_fx_rate AS g ON g.currency_code = 'GBP' AND g.rate_day = d.date_id
JOIN reveries_fx_rate AS u ON u.currency_code = 'USD' AND u.rate_day = d.date_id;

-- Each current order and payment with its value in every reporting currency, at its created date's
-- rate (NULL while that day has no rate).
CREATE OR REPLACE VIEW fact_sales_order_reporting AS
SELECT s.*, s.units_sold * s.unit_price AS sales_value, f.rate_date,
       round(s.units_sold * s.unit_price * f.gbp_per_eur / f.units_per_eur, 2) AS sales_value_gbp,
       round(s.units_sold * s.unit_price / f.units_per_eur, 2)                 AS sales_value_eur,
       round(s.units_sold * s.unit_price * f.usd_per_eur / f.units_per_eur, 2) AS sales_value_usd
FROM fact_sales_order_current AS s
LEFT JOIN reporting_fx AS f ON f.currency_id = s.currency_id AND f.rate_day = s.created_date;

CREATE OR REPLACE VIEW fact_purchase_order_reporting AS
SELECT p.*, p.item_quantity * p.item_unit_price AS purchase_value, f.rate_date,
       round(p.item_quantity * p.item_unit_price * f.gbp_per_eur / f.units_per_eur, 2) AS purchase_value_gbp,
       round(p.item_quantity * p.item_unit_price / f.units_per_eur, 2)                 AS purchase_value_eur,
       round(p.item_quantity * p.item_unit_price * f.usd_per_eur / f.units_per_eur, 2) AS purchase_value_usd
FROM fact_purchase_order_current AS p
LEFT JOIN reporting_fx AS f ON f.currency_id = p.currency_id AND f.rate_day = p.created_date;

CREATE OR REPLACE VIEW fact_payment_reporting AS
SELECT p.*, f.rate_date,
       round(p.payment_amount * f.gbp_per_eur / f.units_per_eur, 2) AS payment_amount_gbp,
       round(p.payment_amount / f.units_per_eur, 2)                 AS payment_amount_eur,
       round(p.payment_amount * f.usd_per_eur / f.units_per_eur, 2) AS payment_amount_usd
FROM fact_payment_current AS p
LEFT JOIN reporting_fx AS f ON f.currency_id = p.currency_id AND f.rate_day = p.created_date;

-- Pre-aggregates the dashboard reads instead of whole histories, over the current rows: kept by the
-- loader in the load transaction (by difference, for the ids a load touches) and recomputed when FX
-- rates change (warehouse/reporting.py). native_value is in the row's own currency; value_gbp/eur/usd
-- are converted row by row at each created date's rate and summed unrounded; unconverted_rows counts
-- the rows whose created date has no rate yet (left out of the converted sums).
CREATE TABLE IF NOT EXISTS reporting_sales_by_day (
    created_date DATE NOT NULL,
    currency_id      INT NOT NULL,
    row_count        BIGINT NOT NULL,
    units            BIGINT NOT NULL,
    native_value     NUMERIC NOT NULL,
    value_gbp        NUMERIC NOT NULL,
    value_eur        NUMERIC NOT NULL,
    value_usd        NUMERIC NOT NULL,
    unconverted_rows BIGINT NOT NULL,
    PRIMARY KEY (created_date, currency_id)
);
CREATE TABLE IF NOT EXISTS reporting_sales_by_design (
    design_id INT NOT NULL,
    currency_id      INT NOT NULL,
    row_count        BIGINT NOT NULL,
    units            BIGINT NOT NULL,
    native_value     NUMERIC NOT NULL,
    value_gbp        NUMERIC NOT NULL,
    value_eur        NUMERIC NOT NULL,
    value_usd        NUMERIC NOT NULL,
    unconverted_rows BIGINT NOT NULL,
    PRIMARY KEY (design_id, currency_id)
);
-- Sales by design over every currency, converted only (a native sum would mix currencies): top
-- designs with no currency filter read ~one row per design.
CREATE TABLE IF NOT EXISTS reporting_sales_by_design_converted (
    design_id        INT PRIMARY KEY,
    row_count        BIGINT NOT NULL,
    units            BIGINT NOT NULL,
    value_gbp        NUMERIC NOT NULL,
    value_eur        NUMERIC NOT NULL,
    value_usd        NUMERIC NOT NULL,
    unconverted_rows BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS reporting_sales_by_staff (
    sales_staff_id INT NOT NULL,
    currency_id      INT NOT NULL,
    row_count        BIGINT NOT NULL,
    units            BIGINT NOT NULL,
    native_value     NUMERIC NOT NULL,
    value_gbp        NUMERIC NOT NULL,
    value_eur        NUMERIC NOT NULL,
    value_usd        NUMERIC NOT NULL,
    unconverted_rows BIGINT NOT NULL,
    PRIMARY KEY (sales_staff_id, currency_id)
);
CREATE TABLE IF NOT EXISTS reporting_sales_by_counterparty (
    counterparty_id INT NOT NULL,
    currency_id      INT NOT NULL,
    row_count        BIGINT NOT NULL,
    units            BIGINT NOT NULL,
    native_value     NUMERIC NOT NULL,
    value_gbp        NUMERIC NOT NULL,
    value_eur        NUMERIC NOT NULL,
    value_usd        NUMERIC NOT NULL,
    unconverted_rows BIGINT NOT NULL,
    PRIMARY KEY (counterparty_id, currency_id)
);
CREATE TABLE IF NOT EXISTS reporting_purchases_by_day (
    created_date DATE NOT NULL,
    currency_id      INT NOT NULL,
    row_count        BIGINT NOT NULL,
    units            BIGINT NOT NULL,
    native_value     NUMERIC NOT NULL,
    value_gbp        NUMERIC NOT NULL,
    value_eur        NUMERIC NOT NULL,
    value_usd        NUMERIC NOT NULL,
    unconverted_rows BIGINT NOT NULL,
    PRIMARY KEY (created_date, currency_id)
);
CREATE TABLE IF NOT EXISTS reporting_payments_by_day (
    created_date DATE NOT NULL,
    currency_id      INT NOT NULL,
    row_count        BIGINT NOT NULL,
    units            BIGINT NOT NULL,
    native_value     NUMERIC NOT NULL,
    value_gbp        NUMERIC NOT NULL,
    value_eur        NUMERIC NOT NULL,
    value_usd        NUMERIC NOT NULL,
    unconverted_rows BIGINT NOT NULL,
    PRIMARY KEY (created_date, currency_id)
);
CREATE TABLE IF NOT EXISTS reporting_unpaid_payments_by_day (
    payment_date DATE NOT NULL,
    currency_id      INT NOT NULL,
    row_count        BIGINT NOT NULL,
    units            BIGINT NOT NULL,
    native_value     NUMERIC NOT NULL,
    value_gbp        NUMERIC NOT NULL,
    value_eur        NUMERIC NOT NULL,
    value_usd        NUMERIC NOT NULL,
    unconverted_rows BIGINT NOT NULL,
    PRIMARY KEY (payment_date, currency_id)
);

-- The load ledger: one row per processed batch object applied, written in the same transaction
-- as the batch's rows, so each batch is applied exactly once.
CREATE TABLE IF NOT EXISTS reveries_load_ledger (
    batch_key  TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_count  BIGINT NOT NULL,
    loaded_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reveries_load_ledger_table_idx ON reveries_load_ledger (table_name, batch_key);
-- "Warehouse last loaded at": max(loaded_at) is one probe of this index, not a scan of the ledger.
CREATE INDEX IF NOT EXISTS reveries_load_ledger_loaded_at_idx ON reveries_load_ledger (loaded_at);

-- The digest of this file the warehouse was last built or migrated with (one row).
CREATE TABLE IF NOT EXISTS reveries_schema_version (
    singleton  BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    version    TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Exact row counts without counting whole histories (warehouse/count_cache.py). Every statement that
-- writes a counted table bumps that table's change number (a statement-level trigger: nothing per
-- row), whoever runs it: the loader or a hand edit. A count kept in reveries_row_count is reused
-- while the change numbers it was taken at are still the tables'; a load locks the change rows, so
-- no other writer slips in between its counts and its commit.
CREATE TABLE IF NOT EXISTS reveries_table_changes (
    table_name TEXT PRIMARY KEY,
    changes    BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS reveries_row_count (
    measure   TEXT PRIMARY KEY,
    row_count BIGINT NOT NULL,
    stamp     TEXT NOT NULL
);
CREATE OR REPLACE FUNCTION reveries_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the written table's own schema, whatever the writer's search_path
    EXECUTE format('UPDATE %I.reveries_table_changes SET changes = changes + 1 WHERE table_name = $1',
                   TG_TABLE_SCHEMA) USING TG_TABLE_NAME;
    RETURN NULL;
END $$;
DO $$
DECLARE
    counted TEXT;
BEGIN
    FOREACH counted IN ARRAY ARRAY[
        'dim_date', 'dim_staff', 'dim_location', 'dim_design', 'dim_currency', 'dim_counterparty',
        'dim_payment_type', 'dim_transaction', 'fact_sales_order', 'fact_purchase_order', 'fact_payment',
        'reveries_deleted_rows', 'fact_sales_order_current', 'fact_purchase_order_current',
        'fact_payment_current'
    ] LOOP
        INSERT INTO reveries_table_changes VALUES (counted, 0) ON CONFLICT (table_name) DO NOTHING;
        EXECUTE format('CREATE OR REPLACE TRIGGER reveries_note_change AFTER INSERT OR UPDATE OR DELETE OR '
                       'TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION reveries_note_change()', counted);
    END LOOP;
END $$;
