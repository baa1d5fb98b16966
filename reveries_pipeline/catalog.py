"""The table catalog: what every stage needs to know about the totesys source tables.

Each source table is described once: its primary key, and the columns the star schema reads, with
the type family it reads them as. Ingestion uses it to tell schema drift that matters (a needed
column dropped or retyped) from drift that doesn't (a new column, a widened type, a dropped column
nobody reads). Shared plumbing: it sits below every stage and imports none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class TypeFamily(StrEnum):
    """How the star schema reads a source column. Any source type of the same family can be cast to
    what processing needs without loss (int -> bigint, varchar(n) -> text, numeric(p,s) -> numeric)."""

    INTEGER = "integer"
    DECIMAL = "decimal"
    TEXT = "text"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"
    DATE = "date"


@dataclass(frozen=True)
class SourceTableSpec:
    name: str
    primary_key: str
    # column -> family, for the columns the star schema reads (every other column is carried in the
    # raw lake but may come and go without consequence)
    star_columns: Mapping[str, TypeFamily]


INT, D, T, TS, B = TypeFamily.INTEGER, TypeFamily.DECIMAL, TypeFamily.TEXT, TypeFamily.TIMESTAMP, TypeFamily.BOOLEAN


def _spec(name: str, **columns: TypeFamily) -> SourceTableSpec:
    return SourceTableSpec(name, f"{name}_id", MappingProxyType({f"{name}_id": INT, **columns, "last_updated": TS}))


# Parents before children (foreign-key order): seeding, truncation and capture follow it.
SOURCE_TABLES: Mapping[str, SourceTableSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _spec("address", address_line_1=T, address_line_2=T, district=T, city=T, postal_code=T, country=T, phone=T),
            _spec("counterparty", counterparty_legal_name=T, legal_address_id=INT),
            _spec("currency", currency_code=T),
            _spec("department", department_name=T, location=T),
            _spec("design", design_name=T, file_location=T, file_name=T),
            _spec("payment_type", payment_type_name=T),
            _spec("staff", first_name=T, last_name=T, department_id=INT, email_address=T),
            _spec(
                "sales_order",
                created_at=TS,
                design_id=INT,
                staff_id=INT,
                counterparty_id=INT,
                units_sold=INT,
                unit_price=D,
                currency_id=INT,
                agreed_delivery_date=T,
                agreed_payment_date=T,
                agreed_delivery_location_id=INT,
            ),
            _spec(
                "purchase_order",
                created_at=TS,
                staff_id=INT,
                counterparty_id=INT,
                item_code=T,
                item_quantity=INT,
                item_unit_price=D,
                currency_id=INT,
                agreed_delivery_date=T,
                agreed_payment_date=T,
                agreed_delivery_location_id=INT,
            ),
            _spec("transaction", transaction_type=T, sales_order_id=INT, purchase_order_id=INT),
            _spec(
                "payment",
                created_at=TS,
                transaction_id=INT,
                counterparty_id=INT,
                payment_amount=D,
                currency_id=INT,
                payment_type_id=INT,
                paid=B,
                payment_date=T,
            ),
        )
    }
)

SOURCE_TABLE_NAMES: tuple[str, ...] = tuple(SOURCE_TABLES)
