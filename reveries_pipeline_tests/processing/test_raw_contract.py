"""What processing reads from a raw batch: the catalog's star columns, typed as totesys declares them.

Every other source column stays in the raw batch: it is dropped when a batch is conformed, so it
shows neither in a reject's `row` nor in the processing state.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl

from reveries_pipeline.catalog import SOURCE_TABLES
from reveries_pipeline.processing.conform import conform_raw_batch
from reveries_pipeline.processing.raw_schemas import CHANGE_COLUMNS, CONFORM_PROBLEM, RAW_SCHEMAS, SOURCE_KEY
from reveries_pipeline.processing.transforms import STATE_TABLES, transform

TOTESYS_DDL = Path(__file__).resolve().parents[2] / "reveries_pipeline" / "totesys" / "ddl.sql"
T0 = dt.datetime(2024, 3, 4, 9, 15, 30, 123000)

# How the totesys DDL's types arrive in processing.
SQL_TO_POLARS = {
    "SERIAL": pl.Int32(),
    "INTEGER": pl.Int32(),
    "TEXT": pl.String(),
    "VARCHAR": pl.String(),
    "NUMERIC(10, 2)": pl.Decimal(10, 2),
    "TIMESTAMP(3)": pl.Datetime("ms"),
    "BOOLEAN": pl.Boolean(),
    '"PAYMENTTYPENAME"': pl.String(),  # enums are read as text
    '"TRANSACTIONTYPE"': pl.String(),
}


def source_columns() -> dict[str, dict[str, str]]:
    """{table: {column: SQL type}} from the totesys DDL (VARCHAR(n) as VARCHAR)."""
    tables = {}
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", TOTESYS_DDL.read_text(), re.S):
        columns = [
            re.match(r'(\w+)\s+("?\w+"?(?:\(\d+(?:, \d+)?\))?)', line.strip()).groups()
            for line in body.splitlines()[1:]
        ]
        tables[name] = {column: re.sub(r"^VARCHAR\(\d+\)$", "VARCHAR", sql.upper()) for column, sql in columns}
    return tables


def department_batch(**overrides) -> pl.DataFrame:
    """A department batch as ingestion writes it: every source column, and one the source added."""
    row = dict(
        department_id=1, department_name="Sales", location="Leeds", manager="Boss", created_at=T0, last_updated=T0
    )
    return pl.DataFrame([row | overrides]).with_columns(pl.lit("new").alias("cost_centre"))


def test_raw_schemas_are_the_catalog_star_columns_typed_as_the_source_declares_them():
    source = source_columns()
    assert set(RAW_SCHEMAS) == set(SOURCE_TABLES) == set(source)
    for table, schema in RAW_SCHEMAS.items():
        assert schema.names() == list(SOURCE_TABLES[table].star_columns), table
        for column, dtype in schema.items():
            assert dtype == SQL_TO_POLARS[source[table][column]], (table, column)


def test_conform_keeps_the_star_columns_and_drops_every_other_column():
    conformed = conform_raw_batch("department", department_batch(), "department/batch-1.parquet")
    assert conformed.columns == [*RAW_SCHEMAS["department"].names(), SOURCE_KEY, CONFORM_PROBLEM, *CHANGE_COLUMNS]
    assert conformed.schema == pl.Schema(
        {**RAW_SCHEMAS["department"], SOURCE_KEY: pl.String, CONFORM_PROBLEM: pl.String, **CHANGE_COLUMNS}
    )


def test_a_reject_row_shows_the_columns_processing_read():
    batch = conform_raw_batch("department", department_batch(department_name=None), "department/batch-1.parquet")
    [reject] = transform({"department": batch}, {}).rejects.iter_rows(named=True)
    assert reject["reason"] == "department_name: required value is null"
    row = json.loads(reject["row"])
    assert list(row) == RAW_SCHEMAS["department"].names()  # no manager, created_at or cost_centre
    assert row["department_id"] == 1 and row["location"] == "Leeds" and row["department_name"] is None


def test_state_written_with_more_columns_still_loads_and_is_kept_as_star_columns():
    # state as processing wrote it before the raw schemas came from the catalog: every source column
    older = {"department": department_batch().drop("cost_centre")}
    staff = dict(
        staff_id=7, first_name="A", last_name="B", department_id=1, email_address="a@b", created_at=T0, last_updated=T0
    )
    batch = conform_raw_batch("staff", pl.DataFrame([staff]), "staff/batch-1.parquet")
    result = transform({"staff": batch}, older)
    assert result.tables["dim_staff"].select("staff_id", "department_name", "location").rows() == [
        (7, "Sales", "Leeds")
    ]
    for table in STATE_TABLES:
        assert result.new_state[table].schema == RAW_SCHEMAS[table], table
