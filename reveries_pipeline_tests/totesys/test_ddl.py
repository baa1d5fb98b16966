"""The totesys DDL against a real PostgreSQL: enums, timestamp(3), nullability, uniques, FK rules."""

from __future__ import annotations

import psycopg
import pytest

from reveries_pipeline.totesys.schema import PRIMARY_KEYS, TOTESYS_TABLES, apply_totesys_ddl

NULLABLE = {
    ("address", "address_line_2"),
    ("address", "district"),
    ("counterparty", "commercial_contact"),
    ("counterparty", "delivery_contact"),
    ("department", "location"),
    ("department", "manager"),
    ("transaction", "sales_order_id"),
    ("transaction", "purchase_order_id"),
}

# (child, column, parent): every foreign key the schema declares.
FOREIGN_KEYS = {
    ("counterparty", "legal_address_id", "address"),
    ("staff", "department_id", "department"),
    ("sales_order", "design_id", "design"),
    ("sales_order", "staff_id", "staff"),
    ("sales_order", "counterparty_id", "counterparty"),
    ("sales_order", "currency_id", "currency"),
    ("sales_order", "agreed_delivery_location_id", "address"),
    ("purchase_order", "staff_id", "staff"),
    ("purchase_order", "counterparty_id", "counterparty"),
    ("purchase_order", "currency_id", "currency"),
    ("purchase_order", "agreed_delivery_location_id", "address"),
    ("transaction", "sales_order_id", "sales_order"),
    ("transaction", "purchase_order_id", "purchase_order"),
    ("payment", "transaction_id", "transaction"),
    ("payment", "counterparty_id", "counterparty"),
    ("payment", "currency_id", "currency"),
    ("payment", "payment_type_id", "payment_type"),
}

FK_QUERY = """
SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, c.confupdtype, c.confdeltype
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
"""


@pytest.fixture
def conn(totesys_dsn):
    with psycopg.connect(totesys_dsn, autocommit=True) as c:
        apply_totesys_ddl(c)
        yield c


def _enum(conn, name: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = %s"
            " ORDER BY e.enumsortorder",
            (name,),
        )
    ]


def test_all_tables_exist(conn):
    rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
    assert {r[0] for r in rows} >= set(TOTESYS_TABLES)


def test_enums(conn):
    assert _enum(conn, "PaymentTypeName") == ["SALES_RECEIPT", "SALES_REFUND", "PURCHASE_PAYMENT", "PURCHASE_REFUND"]
    assert _enum(conn, "TransactionType") == ["SALE", "PURCHASE"]
    udt = dict(
        conn.execute(
            "SELECT table_name || '.' || column_name, udt_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND data_type = 'USER-DEFINED'"
        ).fetchall()
    )
    assert udt == {
        "payment_type.payment_type_name": "PaymentTypeName",
        "transaction.transaction_type": "TransactionType",
    }


def test_audit_columns_are_timestamp3(conn):
    rows = conn.execute(
        "SELECT table_name, column_name, data_type, datetime_precision FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name IN ('created_at', 'last_updated')"
    ).fetchall()
    audit = ("created_at", "last_updated")
    assert {(t, c) for t, c, _, _ in rows} == {(t, c) for t in TOTESYS_TABLES for c in audit}
    assert {(d, p) for _, _, d, p in rows} == {("timestamp without time zone", 3)}
    defaults = dict(
        conn.execute(
            "SELECT table_name, column_default FROM information_schema.columns"
            " WHERE table_schema = 'public' AND column_name = 'created_at'"
        ).fetchall()
    )
    assert all(d == "CURRENT_TIMESTAMP" for d in defaults.values()), defaults


def test_nullability(conn):
    rows = conn.execute(
        "SELECT table_name, column_name, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = ANY(%s)",
        (list(TOTESYS_TABLES),),
    ).fetchall()
    assert len(rows) > 80
    assert {(t, c) for t, c, n in rows if n == "YES"} == NULLABLE


def test_text_dates_and_numeric_money(conn):
    types = {
        (t, c): (d, p, s)
        for t, c, d, p, s in conn.execute(
            "SELECT table_name, column_name, data_type, numeric_precision, numeric_scale"
            " FROM information_schema.columns WHERE table_schema = 'public'"
        )
    }
    for t in ("sales_order", "purchase_order"):
        assert types[(t, "agreed_delivery_date")][0] == "text"
        assert types[(t, "agreed_payment_date")][0] == "text"
    assert types[("payment", "payment_date")][0] == "text"
    money = (("sales_order", "unit_price"), ("purchase_order", "item_unit_price"), ("payment", "payment_amount"))
    for key in money:
        assert types[key] == ("numeric", 10, 2)
    assert types[("currency", "currency_code")][0] == "character varying"


def test_unique_constraints(conn):
    rows = conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
        " WHERE c.contype = 'u' AND c.connamespace = 'public'::regnamespace"
    ).fetchall()
    assert set(rows) == {
        ("transaction", "sales_order_id"),
        ("transaction", "purchase_order_id"),
        ("payment", "transaction_id"),
    }
    pks = conn.execute(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
        " WHERE c.contype = 'p' AND c.connamespace = 'public'::regnamespace"
    ).fetchall()
    assert set(pks) == set(PRIMARY_KEYS.items())  # the catalog's keys are the DDL's


def test_foreign_key_rules(conn):
    rows = conn.execute(FK_QUERY).fetchall()
    assert len(rows) == len(FOREIGN_KEYS)
    assert {(child, col, parent) for child, col, parent, _, _ in rows} == FOREIGN_KEYS
    for child, col, _, on_update, on_delete in rows:
        assert on_update == "c", (child, col)  # ON UPDATE CASCADE
        expected = "n" if child == "transaction" else "r"  # SET NULL for transaction->order, else RESTRICT
        assert on_delete == expected, (child, col)


def test_foreign_key_behaviour(conn):
    conn.execute("INSERT INTO currency (currency_code, last_updated) VALUES ('GBP', now())")
    conn.execute(
        "INSERT INTO address (address_line_1, city, postal_code, country, phone, last_updated)"
        " VALUES ('1 A St', 'Leeds', 'LS1', 'UK', '1234 567890', now())"
    )
    conn.execute(
        "INSERT INTO counterparty (counterparty_legal_name, legal_address_id, last_updated) VALUES ('X Ltd', 1, now())"
    )
    conn.execute("INSERT INTO department (department_name, last_updated) VALUES ('Sales', now())")
    conn.execute(
        "INSERT INTO staff (first_name, last_name, department_id, email_address, last_updated)"
        " VALUES ('a', 'b', 1, 'a.b@terrifictotes.com', now())"
    )
    conn.execute(
        "INSERT INTO design (design_name, file_location, file_name, last_updated)"
        " VALUES ('Steel', '/usr', 'steel-20240101-abcd.json', now())"
    )
    conn.execute(
        "INSERT INTO sales_order (last_updated, design_id, staff_id, counterparty_id, units_sold,"
        " unit_price, currency_id, agreed_delivery_date, agreed_payment_date,"
        " agreed_delivery_location_id)"
        " VALUES (now(), 1, 1, 1, 10, 2.5, 1, '2024-01-02', '2024-01-03', 1)"
    )
    conn.execute("INSERT INTO transaction (transaction_type, sales_order_id, last_updated) VALUES ('SALE', 1, now())")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO transaction (transaction_type, sales_order_id, last_updated) VALUES ('SALE', 1, now())"
        )
    with pytest.raises(psycopg.errors.RestrictViolation):
        conn.execute("DELETE FROM currency WHERE currency_id = 1")  # RESTRICT
    conn.execute("UPDATE currency SET currency_id = 9")  # CASCADE
    assert conn.execute("SELECT currency_id FROM sales_order").fetchone() == (9,)
    conn.execute("DELETE FROM sales_order")  # SET NULL on the transaction
    assert conn.execute("SELECT sales_order_id FROM transaction").fetchone() == (None,)
    created, updated = conn.execute("SELECT created_at, last_updated FROM design").fetchone()
    assert created is not None and updated is not None  # created_at defaults


def test_reapply_is_idempotent(conn):
    before = conn.execute(FK_QUERY).fetchall()
    conn.execute("INSERT INTO currency (currency_code, last_updated) VALUES ('EUR', now())")
    apply_totesys_ddl(conn)
    apply_totesys_ddl(conn)
    assert sorted(conn.execute(FK_QUERY).fetchall()) == sorted(before)
    assert conn.execute("SELECT currency_code FROM currency").fetchall() == [("EUR",)]
    assert len(_enum(conn, "TransactionType")) == 2
