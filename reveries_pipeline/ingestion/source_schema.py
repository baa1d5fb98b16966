"""The Arrow schema of a source table, read from the catalog so raw batches keep the source types exactly."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pyarrow as pa


@dataclass(frozen=True)
class SourceTable:
    name: str
    primary_key: str
    schema: pa.Schema

    @property
    def columns(self) -> list[str]:
        return self.schema.names


def _arrow_type(table: str, column: str, data_type: str, precision, scale, dt_precision) -> pa.DataType:
    if data_type == "integer":
        return pa.int32()
    if data_type == "bigint":
        return pa.int64()
    if data_type == "smallint":
        return pa.int16()
    if data_type == "boolean":
        return pa.bool_()
    if data_type == "numeric":
        if precision is None:
            raise TypeError(f"{table}.{column}: unconstrained numeric has no exact Arrow type")
        return pa.decimal128(precision, scale or 0)
    if data_type == "timestamp without time zone":
        return pa.timestamp("ms" if (dt_precision or 6) <= 3 else "us")
    if data_type == "timestamp with time zone":
        return pa.timestamp("ms" if (dt_precision or 6) <= 3 else "us", tz="UTC")
    if data_type == "date":
        return pa.date32()
    if data_type in ("text", "character varying", "character", "USER-DEFINED"):  # enums travel as text
        return pa.string()
    raise TypeError(f"{table}.{column}: unsupported source type {data_type!r}")


def describe_source_table(conn: psycopg.Connection, table: str) -> SourceTable:
    rows = conn.execute(
        """
        SELECT column_name, data_type, numeric_precision, numeric_scale, datetime_precision, is_nullable
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = %s
        ORDER BY ordinal_position
        """,
        (table,),
    ).fetchall()
    if not rows:
        raise LookupError(f"source table {table!r} does not exist in the totesys database")
    fields = [
        pa.field(name, _arrow_type(table, name, dtype, prec, scale, dtp), nullable=(nullable == "YES"))
        for name, dtype, prec, scale, dtp, nullable in rows
    ]
    pk = conn.execute(
        """
        SELECT a.attname FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = to_regclass(%s) AND i.indisprimary
        """,
        (table,),
    ).fetchall()
    if len(pk) != 1:
        raise LookupError(f"source table {table!r} needs a single-column primary key, found {len(pk)}")
    names = {f.name for f in fields}
    if "last_updated" not in names:
        raise LookupError(f"source table {table!r} has no last_updated column to capture changes by")
    return SourceTable(table, pk[0][0], pa.schema(fields))
