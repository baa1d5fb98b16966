"""The table catalog: what every stage needs to know about the totesys source and star tables.

Each source table is described once: its primary key, and the columns the star schema reads, with
the type family it reads them as. Ingestion uses it to tell schema drift that matters (a needed
column dropped or retyped) from drift that doesn't (a new column, a widened type, a dropped column
nobody reads). Each star table is described once too: its key, its sources, and a fact's foreign
keys (`FOREIGN_KEYS`), which processing and the warehouse both derive from. Shared plumbing: it sits
below every stage and imports none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple


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


class StarKind(StrEnum):
    DIMENSION = "dimension"
    FACT = "fact"


@dataclass(frozen=True)
class StarTableSpec:
    """A star-schema table, as processed parquet and as a warehouse table.

    `key` is what identifies a row: a dimension's id, or a fact's version (natural id, last-updated
    date, last-updated time), since facts keep one row per source version. `sources` are the source
    tables whose rows feed it (a rejected source row is reported on each); the first is the one the
    warehouse reconciles its count with. `references` are a fact's foreign keys: column -> the
    dimension whose key it holds, in column order.
    """

    name: str
    kind: StarKind
    key: tuple[str, ...]
    sources: tuple[str, ...] = ()
    record_id: str | None = None  # a fact's SERIAL surrogate key, assigned by the warehouse
    references: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def natural_id(self) -> str:
        return self.key[0]

    @property
    def is_fact(self) -> bool:
        return self.kind is StarKind.FACT

    @property
    def reconciled_with(self) -> str | None:
        return self.sources[0] if self.sources else None


def _dim(name: str, key: str, *sources: str) -> StarTableSpec:
    return StarTableSpec(name, StarKind.DIMENSION, (key,), sources)


def _fact(
    name: str, natural_id: str, time_column: str, source: str, record_id: str, **references: str
) -> StarTableSpec:
    key = (natural_id, "last_updated_date", time_column)
    return StarTableSpec(name, StarKind.FACT, key, (source,), record_id, MappingProxyType(references))


# Load order: dimensions before the facts that reference them.
STAR_TABLES: Mapping[str, StarTableSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _dim("dim_date", "date_id"),
            _dim("dim_staff", "staff_id", "staff", "department"),
            _dim("dim_location", "location_id", "address"),
            _dim("dim_design", "design_id", "design"),
            _dim("dim_currency", "currency_id", "currency"),
            _dim("dim_counterparty", "counterparty_id", "counterparty", "address"),
            _dim("dim_payment_type", "payment_type_id", "payment_type"),
            _dim("dim_transaction", "transaction_id", "transaction"),
            _fact(
                "fact_sales_order",
                "sales_order_id",
                "last_updated_time",
                "sales_order",
                "sales_record_id",
                created_date="dim_date",
                last_updated_date="dim_date",
                sales_staff_id="dim_staff",
                counterparty_id="dim_counterparty",
                currency_id="dim_currency",
                design_id="dim_design",
                agreed_payment_date="dim_date",
                agreed_delivery_date="dim_date",
                agreed_delivery_location_id="dim_location",
            ),
            _fact(
                "fact_purchase_order",
                "purchase_order_id",
                "last_updated_time",
                "purchase_order",
                "purchase_record_id",
                created_date="dim_date",
                last_updated_date="dim_date",
                staff_id="dim_staff",
                counterparty_id="dim_counterparty",
                currency_id="dim_currency",
                agreed_delivery_date="dim_date",
                agreed_payment_date="dim_date",
                agreed_delivery_location_id="dim_location",
            ),
            _fact(
                "fact_payment",
                "payment_id",
                "last_updated",
                "payment",
                "payment_record_id",
                created_date="dim_date",
                last_updated_date="dim_date",
                transaction_id="dim_transaction",
                counterparty_id="dim_counterparty",
                currency_id="dim_currency",
                payment_type_id="dim_payment_type",
                payment_date="dim_date",
            ),
        )
    }
)

DIMENSION_TABLES: tuple[str, ...] = tuple(n for n, s in STAR_TABLES.items() if not s.is_fact)
FACT_TABLES: tuple[str, ...] = tuple(n for n, s in STAR_TABLES.items() if s.is_fact)
STAR_TABLE_NAMES: tuple[str, ...] = DIMENSION_TABLES + FACT_TABLES


class ForeignKey(NamedTuple):
    table: str
    column: str
    references: str
    referenced_column: str


# Every foreign key of the star schema, fact by fact in column order. Processing holds back a fact
# row whose dimension key isn't emitted yet and stretches dim_date over the date columns; the
# warehouse checks for orphans with them; ddl.sql declares exactly these (test_catalog.py).
FOREIGN_KEYS: tuple[ForeignKey, ...] = tuple(
    ForeignKey(fact, column, dim, STAR_TABLES[dim].natural_id)
    for fact, spec in STAR_TABLES.items()
    for column, dim in spec.references.items()
)


def star_tables_fed_by(source: str) -> tuple[str, ...]:
    """The star tables a row of `source` feeds (where a rejected source row is reported)."""
    return tuple(name for name, spec in STAR_TABLES.items() if source in spec.sources)


@dataclass(frozen=True)
class DeletedRowsSpec:
    """The table of our own beside the reference star schema: one deletion marker per deleted version.

    A source delete names the star table whose *primary* source is that table (`sources[0]`), the
    deleted row's natural id, and its version (its `last_updated`, split into date and time like a
    fact's `last_updated_date`/time). Markers are appended like fact versions: `key` identifies one,
    and one already present, or seen twice, goes in once. A fact's `_current` view hides a version a
    marker names; a dimension row stays (facts reference it) and is marked deleted by its marker.
    Processing writes it as `processed/<name>` and the warehouse loads it after the star tables.
    """

    name: str
    key: tuple[str, ...]
    deleted_at: str  # when the source deleted it (logical: commit time; poll: when it was found gone)


DELETED_ROWS = DeletedRowsSpec(
    "reveries_deleted_rows", ("star_table", "natural_id", "version_date", "version_time"), "deleted_at"
)

# Every table processing writes and the warehouse loads, in load order: the star tables, then markers.
PROCESSED_TABLE_NAMES: tuple[str, ...] = (*STAR_TABLE_NAMES, DELETED_ROWS.name)


def star_table_marked_by(source: str) -> str | None:
    """The star table a delete of a `source` row marks: the one whose primary source it is (None:
    the source has no star table of its own, like department)."""
    return next((name for name, spec in STAR_TABLES.items() if spec.sources[:1] == (source,)), None)
