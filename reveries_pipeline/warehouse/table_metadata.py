"""What a `warehouse/<table>` materialization records: what the load did, and the table as it now is.

The table is described with Dagster's standard keys (dagster/table_name, dagster/row_count,
dagster/column_schema), so the catalog shows its schema-qualified name, size and columns.
"""

from __future__ import annotations

import psycopg
from dagster import MetadataValue, TableColumn, TableColumnConstraints, TableSchema
from psycopg import sql

from reveries_pipeline.warehouse.loader import LoadResult
from reveries_pipeline.warehouse.schema import table_columns


def load_metadata(result: LoadResult, seconds: float) -> dict[str, MetadataValue]:
    return {
        "rows_loaded": MetadataValue.int(result.rows_loaded),
        "batches_applied": MetadataValue.int(len(result.batches_applied)),
        "batches_skipped": MetadataValue.int(len(result.batches_skipped)),
        "last_batch_key": MetadataValue.text(result.batches_applied[-1] if result.batches_applied else "-"),
        "load_seconds": MetadataValue.float(round(seconds, 3)),
    }


def table_metadata(conn: psycopg.Connection, table: str, rows: int | None = None) -> dict[str, MetadataValue]:
    """The table's schema-qualified name (the schema varies by deployment), exact row count (`rows`, the
    load's kept count, else counted now), and columns."""
    (schema,) = conn.execute("SELECT current_schema()").fetchone()
    if rows is None:
        (rows,) = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    columns = [
        TableColumn(c.name, c.type, constraints=TableColumnConstraints(nullable=c.nullable))
        for c in table_columns(conn, table)
    ]
    return {
        "dagster/table_name": MetadataValue.text(f"{schema}.{table}"),
        "dagster/row_count": MetadataValue.int(rows),
        "dagster/column_schema": MetadataValue.table_schema(TableSchema(columns=columns)),
    }
