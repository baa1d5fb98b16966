"""The catalog's foreign keys are the ones ddl.sql declares, so processing and the warehouse agree."""

from __future__ import annotations

from reveries_pipeline.catalog import FOREIGN_KEYS, STAR_TABLES
from reveries_pipeline.warehouse.schema import declared_foreign_keys


def test_ddl_declares_exactly_the_catalog_foreign_keys_in_the_same_order():
    assert declared_foreign_keys() == FOREIGN_KEYS


def test_every_foreign_key_references_a_dimension_key():
    for fk in FOREIGN_KEYS:
        assert STAR_TABLES[fk.table].is_fact and not STAR_TABLES[fk.references].is_fact, fk
        assert fk.referenced_column == STAR_TABLES[fk.references].natural_id, fk
