"""The configuration contract: environment variable names and the embedded-default locations.

Every stage reads its endpoints through these names; nothing else in the package looks at os.environ
for endpoints, so swapping laptop for production is a matter of setting variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TOTESYS_DSN = "TOTESYS_DSN"
WAREHOUSE_DSN = "WAREHOUSE_DSN"
# The dashboard's own read-only role; it never uses the loader's WAREHOUSE_DSN.
DASHBOARD_DSN = "DASHBOARD_DSN"
INGESTION_BUCKET_URL = "INGESTION_BUCKET_URL"
PROCESSED_BUCKET_URL = "PROCESSED_BUCKET_URL"
# The folder (URL or local path) of the ECB's reference-rate files; unset locally = the bundled history.
FX_RATES_URL = "FX_RATES_URL"
# The persistent Dagster instance's PostgreSQL storage (`reveries dev`, `demo`, `run --persist`).
DAGSTER_PG_URL = "DAGSTER_PG_URL"
# Where the embedded default keeps its PostgreSQL data and local buckets.
REVERIES_HOME = "REVERIES_HOME"

EMBEDDED_DATABASES = ("totesys", "warehouse", "dagster")


def reveries_home() -> Path:
    """The folder for local state (embedded PostgreSQL, local buckets); `.reveries` by default."""
    return Path(os.environ.get(REVERIES_HOME) or Path.cwd() / ".reveries").resolve()


def embedded_pgdata() -> Path:
    return reveries_home() / "pg"


def embedded_bucket_dir(name: str) -> Path:
    return reveries_home() / "lake" / name


def env_value(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The variable's value in `env` (the process environment by default), treating empty as unset (a
    blank line in a .env file means 'default'). The one place that rule lives."""
    value = ((os.environ if env is None else env).get(name) or "").strip()
    return value or None
