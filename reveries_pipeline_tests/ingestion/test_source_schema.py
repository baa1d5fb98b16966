"""Describing a source table: a missing one is named, with the command that fills an empty totesys."""

from __future__ import annotations

import psycopg
import pytest

from reveries_pipeline.ingestion.source_schema import describe_source_table


def test_a_missing_source_table_is_named_with_the_command_that_seeds_an_empty_totesys(make_database):
    with psycopg.connect(make_database("totesys")) as conn, pytest.raises(LookupError) as missing:
        describe_source_table(conn, "sales_order")
    assert "source table 'sales_order' does not exist" in str(missing.value)
    assert str(missing.value).endswith(": .venv/bin/reveries totesys seed")
