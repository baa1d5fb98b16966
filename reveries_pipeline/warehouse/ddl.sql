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

-- The newest version of each id, unless a deletion marker names exactly that version (a row
-- re-inserted later has a newer version, and shows again). History stays in the fact table.
CREATE OR REPLACE VIEW fact_sales_order_current AS
SELECT v.* FROM (
    SELECT DISTINCT ON (sales_order_id) *
    FROM fact_sales_order
    ORDER BY sales_order_id, last_updated_date DESC, last_updated_time DESC, sales_record_id DESC
) AS v
WHERE NOT EXISTS (
    SELECT 1 FROM reveries_deleted_rows AS d
    WHERE d.star_table = 'fact_sales_order' AND d.natural_id = v.sales_order_id
      AND d.version_date = v.last_updated_date AND d.version_time = v.last_updated_time
);

CREATE OR REPLACE VIEW fact_purchase_order_current AS
SELECT v.* FROM (
    SELECT DISTINCT ON (purchase_order_id) *
    FROM fact_purchase_order
    ORDER BY purchase_order_id, last_updated_date DESC, last_updated_time DESC, purchase_record_id DESC
) AS v
WHERE NOT EXISTS (
    SELECT 1 FROM reveries_deleted_rows AS d
    WHERE d.star_table = 'fact_purchase_order' AND d.natural_id = v.purchase_order_id
      AND d.version_date = v.last_updated_date AND d.version_time = v.last_updated_time
);

CREATE OR REPLACE VIEW fact_payment_current AS
SELECT v.* FROM (
    SELECT DISTINCT ON (payment_id) *
    FROM fact_payment
    ORDER BY payment_id, last_updated_date DESC, last_updated DESC, payment_record_id DESC
) AS v
WHERE NOT EXISTS (
    SELECT 1 FROM reveries_deleted_rows AS d
    WHERE d.star_table = 'fact_payment' AND d.natural_id = v.payment_id
      AND d.version_date = v.last_updated_date AND d.version_time = v.last_updated
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

-- The digest of this file the warehouse was last built or migrated with (one row).
CREATE TABLE IF NOT EXISTS reveries_schema_version (
    singleton  BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
    version    TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
