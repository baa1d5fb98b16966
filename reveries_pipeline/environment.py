"""Environment switching, in one place.

- **local** (`dagster dev`, tests, `make demo`): whatever is unset is served by the embedded default:
  an embedded PostgreSQL server (databases totesys, warehouse, dagster) and `.reveries/lake/*` folders.
- **branch** (`DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT`): the production endpoints, but buckets under a
  per-PR prefix and the warehouse in its own schema, so a pull request never touches prod data.
- **prod** (`DAGSTER_CLOUD_DEPLOYMENT_NAME=prod`): S3 and RDS from secrets; nothing falls back.

DSNs travel as `EnvVar`s, so their values (and passwords) never appear in config, the UI or logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from enum import StrEnum

from dagster import EnvVar
from dagster_aws.s3 import S3Resource

from reveries_pipeline.config import (
    FX_RATES_URL,
    INGESTION_BUCKET_URL,
    PROCESSED_BUCKET_URL,
    TOTESYS_DSN,
    WAREHOUSE_DSN,
    embedded_bucket_dir,
    env_value,
)
from reveries_pipeline.ingestion.capture_mode import TOTESYS_CAPTURE, TotesysCapture, capture_mode
from reveries_pipeline.io_managers.parquet import ProcessedParquetIOManager
from reveries_pipeline.io_managers.raw_batches import RawBatchIOManager
from reveries_pipeline.reference import ecb
from reveries_pipeline.reference.assets import FxRatesSource
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.resources.object_store import DEFAULT_S3_ATTEMPTS
from reveries_pipeline.warehouse.fx_rates_store import FxRatesIOManager


class Deployment(StrEnum):
    LOCAL = "local"
    BRANCH = "branch"
    PROD = "prod"


class ConfigurationError(RuntimeError):
    pass


def _set(env: Mapping[str, str], name: str) -> str | None:
    return env_value(name, env)


def deployment(env: Mapping[str, str] = os.environ) -> Deployment:
    if (env.get("DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT") or "").lower() in ("1", "true", "yes"):
        return Deployment.BRANCH
    if env.get("DAGSTER_CLOUD_DEPLOYMENT_NAME") == "prod":
        return Deployment.PROD
    return Deployment.LOCAL


def branch_label(env: Mapping[str, str]) -> str:
    """`pr-123` from the pull request number, else a slug of the git branch."""
    pr = _set(env, "DAGSTER_CLOUD_PULL_REQUEST_ID")
    if pr:
        return f"pr-{pr}"
    branch = _set(env, "DAGSTER_CLOUD_GIT_BRANCH") or "branch"
    return re.sub(r"[^a-z0-9]+", "-", branch.lower()).strip("-")[:40] or "branch"


def _postgres(env, var: str, embedded_database: str, required: bool, schema: str = "") -> PostgresResource:
    if _set(env, var):
        # validated when the resource is set up for a run; its errors name `var`, never the password
        return PostgresResource(dsn=EnvVar(var), dsn_variable=var, schema_name=schema)
    if required:
        raise ConfigurationError(f"{var} must be set in this deployment (no embedded fallback outside local)")
    return PostgresResource(embedded_database=embedded_database, schema_name=schema)


def _bucket(env, var: str, local_name: str, required: bool, prefix: str = "") -> ObjectStore:
    url = _set(env, var)
    if url is None:
        if required:
            raise ConfigurationError(f"{var} must be set in this deployment (no local bucket outside local)")
        url = str(embedded_bucket_dir(local_name))
    return ObjectStore(url=f"{url.rstrip('/')}/{prefix}" if prefix else url, s3=_s3(env))


def _s3(env) -> S3Resource:
    """dagster-aws's S3 client settings: the AWS chain (endpoint, region, credentials) from the
    environment, with AWS_MAX_ATTEMPTS attempts per call when set."""
    raw = _set(env, "AWS_MAX_ATTEMPTS") or str(DEFAULT_S3_ATTEMPTS)
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise ConfigurationError(f"AWS_MAX_ATTEMPTS must be a whole number from 1 to 50, not {raw!r}")
    return S3Resource(max_attempts=int(raw))


def build_resources(env: Mapping[str, str] = os.environ) -> dict:
    kind = deployment(env)
    required = kind is not Deployment.LOCAL
    prefix = f"branches/{branch_label(env)}" if kind is Deployment.BRANCH else ""
    schema = branch_label(env).replace("-", "_") if kind is Deployment.BRANCH else ""

    totesys = _postgres(env, TOTESYS_DSN, "totesys", required)
    warehouse = _postgres(env, WAREHOUSE_DSN, "warehouse", required, schema=schema)
    ingestion_lake = _bucket(env, INGESTION_BUCKET_URL, "ingestion", required, prefix)
    processed_lake = _bucket(env, PROCESSED_BUCKET_URL, "processed", required, prefix)
    try:
        mode = capture_mode(_set(env, TOTESYS_CAPTURE))
    except ValueError as e:
        raise ConfigurationError(str(e)) from None
    return {
        "totesys": totesys,
        "totesys_capture": TotesysCapture(mode=mode),
        "warehouse": warehouse,
        "ingestion_lake": ingestion_lake,
        "processed_lake": processed_lake,
        "raw_io_manager": RawBatchIOManager(store=ingestion_lake),
        "processed_io_manager": ProcessedParquetIOManager(store=processed_lake),
        # Locally the ECB history bundled offline; elsewhere the ECB's own files unless FX_RATES_URL says.
        "fx_rates_source": FxRatesSource(
            base_url=_set(env, FX_RATES_URL) or ("" if not required else ecb.ECB_BASE_URL)
        ),
        "fx_rates_io_manager": FxRatesIOManager(warehouse=warehouse),
    }
