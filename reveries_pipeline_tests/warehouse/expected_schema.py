"""The documented warehouse schema, written out independently of ddl.sql, and what a live database says."""

from __future__ import annotations

I, D, T, V, N, B = (  # noqa: E741 - short type names keep the table below readable
    "integer",
    "date",
    "time without time zone",
    "character varying",
    "numeric",
    "boolean",
)
EXPECTED_COLUMNS: dict[str, list[tuple[str, str, bool]]] = {  # (column, type, nullable)
    "dim_date": [
        ("date_id", D, False),
        ("year", I, False),
        ("month", I, False),
        ("day", I, False),
        ("day_of_week", I, False),
        ("day_name", V, False),
        ("month_name", V, False),
        ("quarter", I, False),
    ],
    "dim_staff": [
        ("staff_id", I, False),
        ("first_name", V, False),
        ("last_name", V, False),
        ("department_name", V, False),
        ("location", V, False),
        ("email_address", V, False),
    ],
    "dim_location": [
        ("location_id", I, False),
        ("address_line_1", V, False),
        ("address_line_2", V, True),
        ("district", V, True),
        ("city", V, False),
        ("postal_code", V, False),
        ("country", V, False),
        ("phone", V, False),
    ],
    "dim_design": [
        ("design_id", I, False),
        ("design_name", V, False),
        ("file_location", V, False),
        ("file_name", V, False),
    ],
    "dim_currency": [("currency_id", I, False), ("currency_code", V, False), ("currency_name", V, False)],
    "dim_counterparty": [
        ("counterparty_id", I, False),
        ("counterparty_legal_name", V, False),
        ("counterparty_legal_address_line_1", V, False),
        ("counterparty_legal_address_line_2", V, True),
        ("counterparty_legal_district", V, True),
        ("counterparty_legal_city", V, False),
        ("counterparty_legal_postal_code", V, False),
        ("counterparty_legal_country", V, False),
        ("counterparty_legal_phone_number", V, False),
    ],
    "dim_payment_type": [("payment_type_id", I, False), ("payment_type_name", V, False)],
    "dim_transaction": [
        ("transaction_id", I, False),
        ("transaction_type", V, False),
        ("sales_order_id", I, True),
        ("purchase_order_id", I, True),
    ],
    "fact_sales_order": [
        ("sales_record_id", I, False),
        ("sales_order_id", I, False),
        ("created_date", D, False),
        ("created_time", T, False),
        ("last_updated_date", D, False),
        ("last_updated_time", T, False),
        ("sales_staff_id", I, False),
        ("counterparty_id", I, False),
        ("units_sold", I, False),
        ("unit_price", N, False),
        ("currency_id", I, False),
        ("design_id", I, False),
        ("agreed_payment_date", D, False),
        ("agreed_delivery_date", D, False),
        ("agreed_delivery_location_id", I, False),
    ],
    "fact_purchase_order": [
        ("purchase_record_id", I, False),
        ("purchase_order_id", I, False),
        ("created_date", D, False),
        ("created_time", T, False),
        ("last_updated_date", D, False),
        ("last_updated_time", T, False),
        ("staff_id", I, False),
        ("counterparty_id", I, False),
        ("item_code", V, False),
        ("item_quantity", I, False),
        ("item_unit_price", N, False),
        ("currency_id", I, False),
        ("agreed_delivery_date", D, False),
        ("agreed_payment_date", D, False),
        ("agreed_delivery_location_id", I, False),
    ],
    "fact_payment": [
        ("payment_record_id", I, False),
        ("payment_id", I, False),
        ("created_date", D, False),
        ("created_time", T, False),
        ("last_updated_date", D, False),
        ("last_updated", T, False),
        ("transaction_id", I, False),
        ("counterparty_id", I, False),
        ("payment_amount", N, False),
        ("currency_id", I, False),
        ("payment_type_id", I, False),
        ("paid", B, False),
        ("payment_date", D, False),
    ],
}
# Ours, beside the reference schema: one deletion marker per deleted source version.
EXPECTED_COLUMNS["reveries_deleted_rows"] = [
    ("star_table", "text", False),
    ("natural_id", I, False),
    ("version_date", D, False),
    ("version_time", T, False),
    ("deleted_at", "timestamp without time zone", True),
]
DATES = ("created_date", "last_updated_date", "agreed_payment_date", "agreed_delivery_date")
EXPECTED_FKS: dict[str, set[tuple[str, str, str]]] = {  # (column, referenced table, referenced column)
    "fact_sales_order": {
        *((c, "dim_date", "date_id") for c in DATES),
        ("sales_staff_id", "dim_staff", "staff_id"),
        ("counterparty_id", "dim_counterparty", "counterparty_id"),
        ("currency_id", "dim_currency", "currency_id"),
        ("design_id", "dim_design", "design_id"),
        ("agreed_delivery_location_id", "dim_location", "location_id"),
    },
    "fact_purchase_order": {
        *((c, "dim_date", "date_id") for c in DATES),
        ("staff_id", "dim_staff", "staff_id"),
        ("counterparty_id", "dim_counterparty", "counterparty_id"),
        ("currency_id", "dim_currency", "currency_id"),
        ("agreed_delivery_location_id", "dim_location", "location_id"),
    },
    "fact_payment": {
        *((c, "dim_date", "date_id") for c in ("created_date", "last_updated_date", "payment_date")),
        ("transaction_id", "dim_transaction", "transaction_id"),
        ("counterparty_id", "dim_counterparty", "counterparty_id"),
        ("currency_id", "dim_currency", "currency_id"),
        ("payment_type_id", "dim_payment_type", "payment_type_id"),
    },
}
# Tables of ours beside the reference schema: what the dashboard reads (kept by the loader) and FX rates.
CURRENT_TABLES = {"fact_sales_order_current", "fact_purchase_order_current", "fact_payment_current"}
REPORTING_TABLES = {
    "reporting_sales_by_day",
    "reporting_sales_by_design",
    "reporting_sales_by_design_converted",
    "reporting_sales_by_staff",
    "reporting_sales_by_counterparty",
    "reporting_purchases_by_day",
    "reporting_payments_by_day",
    "reporting_unpaid_payments_by_day",
}
FX_TABLE = "reveries_fx_rate"
VIEWS = {
    "dim_fx_rate",
    "reporting_fx",
    "fact_sales_order_reporting",
    "fact_purchase_order_reporting",
    "fact_payment_reporting",
}
LEDGER = "reveries_load_ledger"


def columns_of(conn, table):
    return [
        (name, dtype, nullable == "YES")
        for name, dtype, nullable in conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
    ]


def foreign_keys_of(conn, table):
    rows = conn.execute(
        """
        SELECT a.attname, c.confrelid::regclass::text, fa.attname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND c.conrelid = %s::regclass
        """,
        (table,),
    ).fetchall()
    return set(rows)
