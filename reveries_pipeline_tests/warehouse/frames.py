"""Processed star-schema frames for loader tests: every dimension, and sales-order facts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from reveries_pipeline.warehouse.loader import load_batch

DAY0 = dt.date(2024, 1, 1)


def dim_date_frame(days: int = 40) -> pl.DataFrame:
    dates = [DAY0 + dt.timedelta(days=i) for i in range(days)]
    return pl.DataFrame(
        {
            "date_id": dates,
            "year": [d.year for d in dates],
            "month": [d.month for d in dates],
            "day": [d.day for d in dates],
            "day_of_week": [d.isoweekday() for d in dates],
            "day_name": [d.strftime("%A") for d in dates],
            "month_name": [d.strftime("%B") for d in dates],
            "quarter": [(d.month - 1) // 3 + 1 for d in dates],
        },
        schema_overrides={c: pl.Int32 for c in ("year", "month", "day", "day_of_week", "quarter")},
    )


def _int32(frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.Int32) for c in cols)


def dim_staff_frame(rows=((1, "Ann", "Lee"), (2, "Bob", "Ray"))) -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "staff_id": [r[0] for r in rows],
                "first_name": [r[1] for r in rows],
                "last_name": [r[2] for r in rows],
                "department_name": ["Sales"] * len(rows),
                "location": ["Leeds"] * len(rows),
                "email_address": [f"s{r[0]}@terrifictotes.com" for r in rows],
            }
        ),
        "staff_id",
    )


def dim_location_frame(address_line_2=("Flat 1", None)) -> pl.DataFrame:
    n = len(address_line_2)
    return _int32(
        pl.DataFrame(
            {
                "location_id": list(range(1, n + 1)),
                "address_line_1": ["1 Road"] * n,
                "address_line_2": pl.Series(list(address_line_2), dtype=pl.String),
                "district": pl.Series([None] * n, dtype=pl.String),
                "city": ["Leeds"] * n,
                "postal_code": ["LS1"] * n,
                "country": ["UK"] * n,
                "phone": ["0113"] * n,
            }
        ),
        "location_id",
    )


def dim_design_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "design_id": [1, 2],
                "design_name": ["Wooden", "Steel"],
                "file_location": ["/usr", "/usr"],
                "file_name": ["a.json", "b.json"],
            }
        ),
        "design_id",
    )


def dim_currency_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "currency_id": [1, 2],
                "currency_code": ["GBP", "EUR"],
                "currency_name": ["Pound sterling", "Euro"],
            }
        ),
        "currency_id",
    )


def dim_counterparty_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "counterparty_id": [1, 2],
                "counterparty_legal_name": ["Fahey", "Leannon"],
                "counterparty_legal_address_line_1": ["605 Haskell", "079 Horacio"],
                "counterparty_legal_address_line_2": pl.Series([None, "Apt 2"], dtype=pl.String),
                "counterparty_legal_district": pl.Series([None, None], dtype=pl.String),
                "counterparty_legal_city": ["Aliso Viejo", "Utica"],
                "counterparty_legal_postal_code": ["99305", "11"],
                "counterparty_legal_country": ["Samoa", "Ghana"],
                "counterparty_legal_phone_number": ["1803", "1234"],
            }
        ),
        "counterparty_id",
    )


def dim_payment_type_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame({"payment_type_id": [1, 2], "payment_type_name": ["SALES_RECEIPT", "PURCHASE_PAYMENT"]}),
        "payment_type_id",
    )


def dim_transaction_frame() -> pl.DataFrame:
    return _int32(
        pl.DataFrame(
            {
                "transaction_id": [1, 2],
                "transaction_type": ["SALE", "PURCHASE"],
                "sales_order_id": [1, None],
                "purchase_order_id": [None, 1],
            }
        ),
        "transaction_id",
        "sales_order_id",
        "purchase_order_id",
    )


DIMENSIONS = {
    "dim_date": dim_date_frame,
    "dim_staff": dim_staff_frame,
    "dim_location": dim_location_frame,
    "dim_design": dim_design_frame,
    "dim_currency": dim_currency_frame,
    "dim_counterparty": dim_counterparty_frame,
    "dim_payment_type": dim_payment_type_frame,
    "dim_transaction": dim_transaction_frame,
}


def sales_frame(rows: list[dict]) -> pl.DataFrame:
    """Sales-order rows; each dict gives at least sales_order_id, the rest defaults to valid values."""
    base = {
        "created_date": DAY0,
        "created_time": dt.time(9, 0),
        "last_updated_date": DAY0,
        "last_updated_time": dt.time(9, 0),
        "sales_staff_id": 1,
        "counterparty_id": 1,
        "units_sold": 10,
        "unit_price": Decimal("2.50"),
        "currency_id": 1,
        "design_id": 1,
        "agreed_payment_date": DAY0 + dt.timedelta(days=3),
        "agreed_delivery_date": DAY0 + dt.timedelta(days=2),
        "agreed_delivery_location_id": 1,
    }
    full = [{"sales_order_id": r["sales_order_id"], **{k: r.get(k, v) for k, v in base.items()}} for r in rows]
    return pl.DataFrame(
        full,
        schema={
            "sales_order_id": pl.Int32,
            "created_date": pl.Date,
            "created_time": pl.Time,
            "last_updated_date": pl.Date,
            "last_updated_time": pl.Time,
            "sales_staff_id": pl.Int32,
            "counterparty_id": pl.Int32,
            "units_sold": pl.Int32,
            "unit_price": pl.Decimal(10, 2),
            "currency_id": pl.Int32,
            "design_id": pl.Int32,
            "agreed_payment_date": pl.Date,
            "agreed_delivery_date": pl.Date,
            "agreed_delivery_location_id": pl.Int32,
        },
    )


def big_sales_frame(n: int) -> pl.DataFrame:
    """`n` valid sales-order rows (one version each of ids 0..n-1), built column-wise: fast at any size."""
    ids = pl.int_range(0, n, dtype=pl.Int32, eager=True)
    return pl.DataFrame(
        {
            "sales_order_id": ids,
            "created_date": pl.repeat(DAY0, n, eager=True),
            "created_time": pl.repeat(dt.time(14, 3, 7, 123000), n, eager=True),
            "last_updated_date": pl.repeat(DAY0 + dt.timedelta(days=1), n, eager=True),
            "last_updated_time": pl.repeat(dt.time(15, 0, 0, 456000), n, eager=True),
            "sales_staff_id": (ids % 2 + 1).cast(pl.Int32),
            "counterparty_id": (ids % 2 + 1).cast(pl.Int32),
            "units_sold": ids % 1000,
            "unit_price": pl.Series(
                [Decimal("12345678.91"), Decimal("3.05")] * (n // 2) + [Decimal("1.00")] * (n % 2),
                dtype=pl.Decimal(10, 2),
            ),
            "currency_id": (ids % 2 + 1).cast(pl.Int32),
            "design_id": (ids % 2 + 1).cast(pl.Int32),
            "agreed_payment_date": pl.repeat(DAY0 + dt.timedelta(days=5), n, eager=True),
            "agreed_delivery_date": pl.repeat(DAY0 + dt.timedelta(days=6), n, eager=True),
            "agreed_delivery_location_id": (ids % 2 + 1).cast(pl.Int32),
        }
    )


def seed_dimensions(conn) -> None:
    """Load every dimension's frame above (what sales_frame's defaults refer to), in the caller's transaction."""
    for table, make in DIMENSIONS.items():
        load_batch(conn, table, f"{table}/seed.parquet", make())
