"""The totesys source: its DDL, a seeder that reproduces the real data's shape, and a live simulator."""

from reveries_pipeline.totesys.schema import TOTESYS_TABLES, apply_totesys_ddl

__all__ = ["TOTESYS_TABLES", "apply_totesys_ddl"]
