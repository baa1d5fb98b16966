"""Transforms against the warehouse contract: target schemas and foreign keys match ddl.sql, and
currency codes get their names."""

from __future__ import annotations

import re

from reveries_pipeline.catalog import DIMENSION_TABLES, FACT_TABLES, FOREIGN_KEYS
from reveries_pipeline.processing.currencies import currency_name
from reveries_pipeline.processing.schemas import NULLABLE_COLUMNS, PRIMARY_KEYS, TARGET_SCHEMAS
from reveries_pipeline_tests.processing.ddl_contract import SQL_TO_POLARS, WAREHOUSE_DDL, parse_warehouse_ddl


def test_target_schemas_match_warehouse_ddl():
    ddl = parse_warehouse_ddl()
    assert set(TARGET_SCHEMAS) == set(ddl)
    assert set(TARGET_SCHEMAS) == set(FACT_TABLES) | set(DIMENSION_TABLES)
    for table, schema in TARGET_SCHEMAS.items():
        cols = [c for c in ddl[table] if c[1] != "SERIAL"]
        assert list(schema.names()) == [c[0] for c in cols], table
        for col, sqltype, nullable in cols:
            assert schema[col] == SQL_TO_POLARS[sqltype], (table, col)
            assert (col in NULLABLE_COLUMNS[table]) == nullable, (table, col)
        for col in PRIMARY_KEYS[table]:
            assert col in schema.names()


def test_foreign_keys_mirror_ddl():
    text = WAREHOUSE_DDL.read_text()
    refs = []
    for name, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", text, re.S):
        for col, dim, dim_col in re.findall(r"(\w+)\s+\w+ NOT NULL REFERENCES (\w+) \((\w+)\)", body):
            refs.append((name, col, dim, dim_col))
    assert sorted(FOREIGN_KEYS) == sorted(refs)


def test_currency_names():
    assert currency_name("GBP") == "Pound Sterling"
    assert currency_name("USD") == "US Dollar"
    assert currency_name("eur") == "Euro"
    assert currency_name("JPY") == "Yen"
    assert currency_name("XYZ") is None
