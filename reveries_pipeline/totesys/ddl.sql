-- totesys, as the real Prisma-managed database has it: integer keys from sequences,
-- timestamp(3) audit columns, text dates, two enums. Idempotent: safe to run on an existing database.

DO $$ BEGIN
    CREATE TYPE "PaymentTypeName" AS ENUM ('SALES_RECEIPT', 'SALES_REFUND', 'PURCHASE_PAYMENT', 'PURCHASE_REFUND');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

DO $$ BEGIN
    CREATE TYPE "TransactionType" AS ENUM ('SALE', 'PURCHASE');
EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE TABLE IF NOT EXISTS address (
    address_id     SERIAL PRIMARY KEY,
    address_line_1 TEXT NOT NULL,
    address_line_2 TEXT,
    district       TEXT,
    city           TEXT NOT NULL,
    postal_code    TEXT NOT NULL,
    country        TEXT NOT NULL,
    phone          TEXT NOT NULL,
    created_at     TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated   TIMESTAMP(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS counterparty (
    counterparty_id         SERIAL PRIMARY KEY,
    counterparty_legal_name TEXT NOT NULL,
    legal_address_id        INTEGER NOT NULL REFERENCES address (address_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    commercial_contact      TEXT,
    delivery_contact        TEXT,
    created_at              TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated            TIMESTAMP(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS currency (
    currency_id   SERIAL PRIMARY KEY,
    currency_code VARCHAR(3) NOT NULL,
    created_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated  TIMESTAMP(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS department (
    department_id   SERIAL PRIMARY KEY,
    department_name TEXT NOT NULL,
    location        TEXT,
    manager         TEXT,
    created_at      TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated    TIMESTAMP(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS design (
    design_id     SERIAL PRIMARY KEY,
    created_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    design_name   TEXT NOT NULL,
    file_location TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    last_updated  TIMESTAMP(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS payment_type (
    payment_type_id   SERIAL PRIMARY KEY,
    payment_type_name "PaymentTypeName" NOT NULL,
    created_at        TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated      TIMESTAMP(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS staff (
    staff_id      SERIAL PRIMARY KEY,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES department (department_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    email_address TEXT NOT NULL,
    created_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated  TIMESTAMP(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS sales_order (
    sales_order_id              SERIAL PRIMARY KEY,
    created_at                  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated                TIMESTAMP(3) NOT NULL,
    design_id                   INTEGER NOT NULL REFERENCES design (design_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    staff_id                    INTEGER NOT NULL REFERENCES staff (staff_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    counterparty_id             INTEGER NOT NULL REFERENCES counterparty (counterparty_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    units_sold                  INTEGER NOT NULL,
    unit_price                  NUMERIC(10, 2) NOT NULL,
    currency_id                 INTEGER NOT NULL REFERENCES currency (currency_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    agreed_delivery_date        TEXT NOT NULL,
    agreed_payment_date         TEXT NOT NULL,
    agreed_delivery_location_id INTEGER NOT NULL REFERENCES address (address_id) ON UPDATE CASCADE ON DELETE RESTRICT
);

CREATE TABLE IF NOT EXISTS purchase_order (
    purchase_order_id           SERIAL PRIMARY KEY,
    created_at                  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated                TIMESTAMP(3) NOT NULL,
    staff_id                    INTEGER NOT NULL REFERENCES staff (staff_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    counterparty_id             INTEGER NOT NULL REFERENCES counterparty (counterparty_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    item_code                   TEXT NOT NULL,
    item_quantity               INTEGER NOT NULL,
    item_unit_price             NUMERIC(10, 2) NOT NULL,
    currency_id                 INTEGER NOT NULL REFERENCES currency (currency_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    agreed_delivery_date        TEXT NOT NULL,
    agreed_payment_date         TEXT NOT NULL,
    agreed_delivery_location_id INTEGER NOT NULL REFERENCES address (address_id) ON UPDATE CASCADE ON DELETE RESTRICT
);

CREATE TABLE IF NOT EXISTS transaction (
    transaction_id    SERIAL PRIMARY KEY,
    transaction_type  "TransactionType" NOT NULL,
    sales_order_id    INTEGER UNIQUE REFERENCES sales_order (sales_order_id) ON UPDATE CASCADE ON DELETE SET NULL,
    purchase_order_id INTEGER UNIQUE REFERENCES purchase_order (purchase_order_id) ON UPDATE CASCADE ON DELETE SET NULL,
    created_at        TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated      TIMESTAMP(3) NOT NULL
);

CREATE TABLE IF NOT EXISTS payment (
    payment_id             SERIAL PRIMARY KEY,
    created_at             TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_updated           TIMESTAMP(3) NOT NULL,
    transaction_id         INTEGER NOT NULL UNIQUE REFERENCES transaction (transaction_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    counterparty_id        INTEGER NOT NULL REFERENCES counterparty (counterparty_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    payment_amount         NUMERIC(10, 2) NOT NULL,
    currency_id            INTEGER NOT NULL REFERENCES currency (currency_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    payment_type_id        INTEGER NOT NULL REFERENCES payment_type (payment_type_id) ON UPDATE CASCADE ON DELETE RESTRICT,
    paid                   BOOLEAN NOT NULL,
    payment_date           TEXT NOT NULL,
    company_ac_number      INTEGER NOT NULL,
    counterparty_ac_number INTEGER NOT NULL
);
