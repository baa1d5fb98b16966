"""The code location's resources for this environment, built from its endpoints (endpoints.py says
which databases and buckets the local, branch and prod deployments use).

DSNs travel as `EnvVar`s, so their values (and passwords) never appear in config, the UI or logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dagster import EnvVar
from dagster_aws.s3 import S3Resource

from reveries_pipeline.config import FX_RATES_URL, env_value
from reveries_pipeline.endpoints import (
    Bucket,
    ConfigurationError,
    Database,
    Deployment,
    resolve_endpoints,
)
from reveries_pipeline.ingestion.capture_mode import TOTESYS_CAPTURE, TotesysCapture, capture_mode
from reveries_pipeline.io_managers.parquet import ProcessedParquetIOManager
from reveries_pipeline.io_managers.raw_batches import RawBatchIOManager
from reveries_pipeline.reference import ecb
from reveries_pipeline.reference.assets import FxRatesSource
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.resources.object_store import DEFAULT_S3_ATTEMPTS
from reveries_pipeline.warehouse.fx_rates_store import FxRatesIOManager


def _postgres(database: Database) -> PostgresResource:
    database.require()
    if database.configured:
        # validated when the resource is set up for a run; its errors name the variable, never the password
        return PostgresResource(
            dsn=EnvVar(database.variable), dsn_variable=database.variable, schema_name=database.schema
        )
    return PostgresResource(embedded_database=database.embedded_database, schema_name=database.schema)


def lake_store(bucket: Bucket, env: Mapping[str, str] = os.environ) -> ObjectStore:
    """The ObjectStore of a lake bucket, with the S3 client settings of `env`."""
    return ObjectStore(url=bucket.location, s3=_s3(env))


def _s3(env) -> S3Resource:
    """dagster-aws's S3 client settings: the AWS chain (endpoint, region, credentials) from the
    environment, with AWS_MAX_ATTEMPTS attempts per call when set."""
    raw = env_value("AWS_MAX_ATTEMPTS", env) or str(DEFAULT_S3_ATTEMPTS)
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise ConfigurationError(f"AWS_MAX_ATTEMPTS must be a whole number from 1 to 50, not {raw!r}")
    return S3Resource(max_attempts=int(raw))


def build_resources(env: Mapping[str, str] = os.environ) -> dict:
    """The code location's resources, keyed as the assets ask for them, for the endpoints of `env`."""
    endpoints = resolve_endpoints(env)
    local = endpoints.deployment is Deployment.LOCAL
    totesys = _postgres(endpoints.totesys)
    warehouse = _postgres(endpoints.warehouse)
    ingestion_lake = lake_store(endpoints.ingestion, env)
    processed_lake = lake_store(endpoints.processed, env)
    try:
        mode = capture_mode(env_value(TOTESYS_CAPTURE, env))
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
        "fx_rates_source": FxRatesSource(base_url=env_value(FX_RATES_URL, env) or ("" if local else ecb.ECB_BASE_URL)),
        "fx_rates_io_manager": FxRatesIOManager(warehouse=warehouse),
    }
