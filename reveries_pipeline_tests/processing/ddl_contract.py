"""What the warehouse DDL says each processed table looks like, and the shape every transform result
must have: the target schemas, in DDL column order, with no nulls where the DDL forbids them."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from reveries_pipeline.processing.schemas import TARGET_SCHEMAS
from reveries_pipeline.processing.transforms import ProcessingResult

WAREHOUSE_DDL = Path(__file__).resolve().parents[2] / "reveries_pipeline" / "warehouse" / "ddl.sql"


def parse_warehouse_ddl() -> dict[str, list[tuple[str, str, bool]]]:
    """CREATE TABLE blocks of the warehouse DDL -> [(column, sql type, nullable)] per table."""
    text = WAREHOUSE_DDL.read_text()
    tables: dict[str, list[tuple[str, str, bool]]] = {}
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", text, re.S):
        if not (name.startswith("dim_") or name.startswith("fact_")) or name.endswith("_current"):
            continue  # the load ledger and the loader's current tables are no processed tables
        cols = []
        for line in body.strip().splitlines():
            line = line.strip().rstrip(",")
            m = re.match(r"(\w+)\s+(SERIAL|INT|DATE|TIME|VARCHAR|BOOLEAN|NUMERIC(?:\(\d+, ?\d+\))?)(.*)", line)
            assert m, line
            col, sqltype, rest = m.groups()
            nullable = "NOT NULL" not in rest and "PRIMARY KEY" not in rest
            cols.append((col, sqltype, nullable))
        tables[name] = cols
    return tables


SQL_TO_POLARS = {
    "INT": pl.Int32,
    "DATE": pl.Date,
    "TIME": pl.Time,
    "VARCHAR": pl.String,
    "BOOLEAN": pl.Boolean,
    "NUMERIC": pl.Decimal(10, 2),
    "NUMERIC(10, 2)": pl.Decimal(10, 2),
}


def assert_schema(result: ProcessingResult):
    ddl = parse_warehouse_ddl()
    assert list(result.tables) == list(TARGET_SCHEMAS)
    for table, frame in result.tables.items():
        assert frame.schema == TARGET_SCHEMAS[table], table
        cols = [c for c in ddl[table] if c[1] != "SERIAL"]
        assert frame.columns == [c[0] for c in cols]
        for col, _, nullable in cols:
            if not nullable:
                assert frame.get_column(col).null_count() == 0, (table, col)
        assert not any(dtype.is_float() for dtype in frame.dtypes), table
