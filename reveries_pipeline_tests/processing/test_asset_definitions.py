"""How the processed tables appear in the catalog, before any run: keys, group, lineage, columns, checks."""

from __future__ import annotations

from reveries_pipeline.asset_keys import PROCESSED_GROUP, processed_key, raw_key
from reveries_pipeline.catalog import DELETED_ROWS, PROCESSED_TABLE_NAMES, SOURCE_TABLE_NAMES, STAR_TABLE_NAMES
from reveries_pipeline.processing.assets import star_schema_tables
from reveries_pipeline.processing.schemas import NULLABLE_COLUMNS, PROCESSED_SCHEMAS


def test_each_star_table_and_the_deletion_markers_are_processed_assets_fed_by_every_raw_table():
    specs = {spec.key: spec for spec in star_schema_tables.specs}
    assert set(specs) == {processed_key(t) for t in PROCESSED_TABLE_NAMES}
    assert processed_key(DELETED_ROWS.name) in specs
    for spec in specs.values():
        assert spec.group_name == PROCESSED_GROUP
        assert {dep.asset_key for dep in spec.deps} == {raw_key(t) for t in SOURCE_TABLE_NAMES}


def test_each_table_shows_its_columns_before_the_first_run():
    for spec in star_schema_tables.specs:
        table = spec.key.path[-1]
        columns = spec.metadata["dagster/column_schema"].schema.columns
        assert [c.name for c in columns] == PROCESSED_SCHEMAS[table].names()
        assert {c.name for c in columns if c.constraints.nullable} == NULLABLE_COLUMNS[table]
        assert all(c.type for c in columns)
    [currency] = [s for s in star_schema_tables.specs if s.key == processed_key("dim_currency")]
    types = {c.name: c.type for c in currency.metadata["dagster/column_schema"].schema.columns}
    assert types == {"currency_id": "int32", "currency_code": "string", "currency_name": "string"}


def test_checks_are_on_the_processed_keys():
    checked = {(c.asset_key, c.name) for c in star_schema_tables.check_specs}
    assert (processed_key("fact_sales_order"), "no_held_back_facts") in checked
    assert (processed_key("dim_currency"), "currency_codes_known") in checked
    assert {key for key, _ in checked} == {processed_key(t) for t in STAR_TABLE_NAMES}
