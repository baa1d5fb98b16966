"""The Arrow schema of a source table, read from pg_catalog so raw batches keep the source types exactly.

Every column gets an exact Arrow type or, when there is none (unconstrained numeric, json, uuid,
arrays, intervals...), its text exactly as COPY writes it: a new or retyped column never stops a
capture. Each batch records the source schema it was written with (see `SourceTable.schema`).

Some values of a typed column have no Arrow value: `NaN` in a numeric(p,s), `infinity` or a BC or
year-10000 timestamp or date. One such value must not stop the table, so the capture reads it as
null in its column and keeps its exact text in the row's UNREPRESENTABLE column (JSON {column: text});
processing rejects the row, naming the column and the value, when the star schema reads that column.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property

import psycopg
import pyarrow as pa
from psycopg import sql

from reveries_pipeline.catalog import TypeFamily

# Parquet key-value metadata of every raw batch (processing reads batches of several schemas).
SOURCE_TABLE_KEY = "reveries.source_table"
SOURCE_SCHEMA_KEY = "reveries.source_schema"  # JSON {column: postgres type}, in column order
FINGERPRINT_KEY = "reveries.schema_fingerprint"
# Per row: JSON {column: source text} of the values the typed columns could not hold (null: none).
UNREPRESENTABLE = "_unrepresentable"
# Per-field metadata.
POSTGRES_TYPE_KEY = "postgres_type"
TYPE_FAMILY_KEY = "type_family"

_NUMERIC = re.compile(r"numeric\((\d+),(-?\d+)\)")
_TIMESTAMP = re.compile(r"timestamp(?:\((\d)\))? with(out)? time zone")
_SIMPLE: dict[str, tuple[pa.DataType, TypeFamily | None]] = {
    "smallint": (pa.int16(), TypeFamily.INTEGER),
    "integer": (pa.int32(), TypeFamily.INTEGER),
    "bigint": (pa.int64(), TypeFamily.INTEGER),
    "boolean": (pa.bool_(), TypeFamily.BOOLEAN),
    "date": (pa.date32(), TypeFamily.DATE),
    "text": (pa.string(), TypeFamily.TEXT),
    # any scale at all, so no fixed Arrow decimal holds it: keep the exact text COPY writes
    "numeric": (pa.string(), TypeFamily.DECIMAL),
    # COPY writes the shortest text that round-trips, so these parse back to the same value
    "real": (pa.float32(), None),
    "double precision": (pa.float64(), None),
}


def arrow_type(pg_type: str, typtype: str = "b") -> tuple[pa.DataType, TypeFamily | None]:
    """(Arrow type, type family) for a type as format_type() names it; `typtype` 'e' is an enum."""
    if typtype == "e":
        return pa.string(), TypeFamily.TEXT
    if pg_type in _SIMPLE:
        return _SIMPLE[pg_type]
    if pg_type.startswith(("character varying", "character(")) or pg_type == "character":
        return pa.string(), TypeFamily.TEXT
    if m := _NUMERIC.fullmatch(pg_type):
        precision, scale = int(m[1]), int(m[2])
        # polars (used to drop already-captured rows) holds decimals up to 38 digits
        exact = pa.decimal128(precision, scale) if 0 <= scale <= precision <= 38 else pa.string()
        return exact, TypeFamily.DECIMAL
    if m := _TIMESTAMP.fullmatch(pg_type):
        unit = "ms" if int(m[1] or 6) <= 3 else "us"
        # with time zone: an instant, not the wall-clock time the star schema reads
        return (pa.timestamp(unit), TypeFamily.TIMESTAMP) if m[2] else (pa.timestamp(unit, tz="UTC"), None)
    return pa.string(), None


@dataclass(frozen=True)
class SourceColumn:
    name: str
    pg_type: str  # format_type(): the exact source type name, e.g. numeric(10,2)
    arrow_type: pa.DataType
    family: TypeFamily | None
    nullable: bool

    def unrepresentable(self) -> sql.Composable | None:
        """SQL that is true where this column holds a value its Arrow type can't (None: every value fits)."""
        col = sql.Identifier(self.name)
        if pa.types.is_decimal(self.arrow_type):
            return sql.SQL("{} IN ('NaN', 'Infinity', '-Infinity')").format(col)
        if pa.types.is_timestamp(self.arrow_type) or pa.types.is_date(self.arrow_type):
            # infinities, BC dates and years past 9999 (PostgreSQL has them; Arrow and Python don't);
            # two comparisons are far cheaper per row than isfinite() and extract()
            return sql.SQL("NOT ({0} >= '0001-01-01' AND {0} < '10000-01-01')").format(col)
        return None

    def field(self) -> pa.Field:
        metadata = {POSTGRES_TYPE_KEY: self.pg_type}
        if self.family is not None:
            metadata[TYPE_FAMILY_KEY] = self.family.value
        return pa.field(self.name, self.arrow_type, nullable=self.nullable, metadata=metadata)


@dataclass(frozen=True)
class SourceTable:
    name: str
    primary_key: str
    source_columns: tuple[SourceColumn, ...]

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.source_columns]

    @property
    def pg_types(self) -> dict[str, str]:
        return {c.name: c.pg_type for c in self.source_columns}

    def column(self, name: str) -> SourceColumn | None:
        return next((c for c in self.source_columns if c.name == name), None)

    @cached_property
    def fingerprint(self) -> str:
        """Short and stable: the same columns with the same types give the same fingerprint."""
        return hashlib.sha256(json.dumps(list(self.pg_types.items())).encode()).hexdigest()[:16]

    @cached_property
    def polled_schema(self) -> pa.Schema:
        """The schema of a polled batch: the source columns, then UNREPRESENTABLE. A column that may
        hold a value with no Arrow value is nullable: that value is read as null."""
        fields = [
            f.with_nullable(True) if c.unrepresentable() is not None else f
            for c, f in zip(self.source_columns, self.schema, strict=True)
        ]
        return pa.schema([*fields, pa.field(UNREPRESENTABLE, pa.string())], metadata=self.schema.metadata)

    @cached_property
    def schema(self) -> pa.Schema:
        """The batch schema, carrying the source schema it was captured with."""
        return pa.schema(
            [c.field() for c in self.source_columns],
            metadata={
                SOURCE_TABLE_KEY: self.name,
                SOURCE_SCHEMA_KEY: json.dumps(self.pg_types),
                FINGERPRINT_KEY: self.fingerprint,
            },
        )


def _read_columns(conn: psycopg.Connection, table: str) -> list[SourceColumn]:
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod),
               CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod)
                    ELSE format_type(a.atttypid, a.atttypmod) END,
               t.typtype, a.attnotnull
        FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = to_regclass(quote_ident(%s)) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        (table,),
    ).fetchall()
    # a domain is read as its base type; the column still records the domain's name
    return [
        SourceColumn(name, pg_type, *arrow_type(base_type, typtype), nullable=not notnull)
        for name, pg_type, base_type, typtype, notnull in rows
    ]


def describe_source_table(conn: psycopg.Connection, table: str) -> SourceTable:
    """The table's columns and key. Locks the table's definition for the rest of the transaction (as
    the COPY would), so a concurrent ALTER TABLE waits instead of changing it between this and the COPY."""
    if conn.execute("SELECT to_regclass(quote_ident(%s))", (table,)).fetchone()[0] is None:
        raise LookupError(
            f"source table {table!r} does not exist in the totesys database: check TOTESYS_DSN, or, on the "
            "embedded default (which starts empty), fill it with generated data: .venv/bin/reveries totesys seed"
        )
    conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(sql.Identifier(table)))
    columns = _read_columns(conn, table)
    pk = conn.execute(
        """
        SELECT a.attname FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = to_regclass(quote_ident(%s)) AND i.indisprimary
        """,
        (table,),
    ).fetchall()
    if len(pk) != 1:
        raise LookupError(f"source table {table!r} needs a single-column primary key, found {len(pk)}")
    return SourceTable(table, pk[0][0], tuple(columns))
