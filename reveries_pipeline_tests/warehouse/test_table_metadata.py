"""What a warehouse materialization says about its table, in a branch deployment's own schema."""

from __future__ import annotations

import psycopg

from reveries_pipeline.warehouse.schema import apply_warehouse_ddl
from reveries_pipeline.warehouse.table_metadata import table_metadata
from reveries_pipeline_tests.warehouse.frames import seed_dimensions


def test_the_table_is_named_in_the_schema_it_lives_in_with_its_rows_and_columns(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute("CREATE SCHEMA pr_42")
        conn.execute("SET search_path TO pr_42")  # as PostgresResource(schema_name=...) does
        apply_warehouse_ddl(conn)
        seed_dimensions(conn)
        described = table_metadata(conn, "dim_location")
        fact = table_metadata(conn, "fact_sales_order")

    assert described["dagster/table_name"].value == "pr_42.dim_location"
    assert described["dagster/row_count"].value == 2
    columns = described["dagster/column_schema"].value.columns
    assert [(c.name, c.type, c.constraints.nullable) for c in columns[:3]] == [
        ("location_id", "integer", False),
        ("address_line_1", "character varying", False),
        ("address_line_2", "character varying", True),
    ]
    assert fact["dagster/row_count"].value == 0
    unit_price = next(c for c in fact["dagster/column_schema"].value.columns if c.name == "unit_price")
    assert unit_price.type == "numeric(10,2)"
