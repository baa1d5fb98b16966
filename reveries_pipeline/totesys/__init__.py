"""The totesys source: its DDL, a generator of data shaped like the real snapshot, the seeder that loads
it, and a live simulator."""

from reveries_pipeline.totesys.schema import TOTESYS_TABLES, apply_totesys_ddl

__all__ = ["TOTESYS_TABLES", "apply_totesys_ddl"]
