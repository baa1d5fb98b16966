"""The totesys tables and the DDL that creates them. The tables and their keys come from the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from types import MappingProxyType

import psycopg

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES, SOURCE_TABLES

# Parents before children: seeding and truncation follow this order.
TOTESYS_TABLES: tuple[str, ...] = SOURCE_TABLE_NAMES

PRIMARY_KEYS: Mapping[str, str] = MappingProxyType({name: spec.primary_key for name, spec in SOURCE_TABLES.items()})


def totesys_ddl() -> str:
    return files("reveries_pipeline.totesys").joinpath("ddl.sql").read_text()


def apply_totesys_ddl(conn: psycopg.Connection) -> None:
    """Create the schema if absent (idempotent)."""
    conn.execute(totesys_ddl())
