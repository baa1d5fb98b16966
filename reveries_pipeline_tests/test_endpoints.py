"""One resolver names every endpoint of an environment, and the code location, the CLI and the
dashboard all ask it: a branch deployment's buckets and schema reach each of them."""

from __future__ import annotations

import psycopg
import pytest

from reveries_pipeline.endpoints import ConfigurationError, Deployment, resolve_endpoints

SECRET = "s3cr3t-pw"
BRANCH = {
    "DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT": "true",
    "DAGSTER_CLOUD_PULL_REQUEST_ID": "42",
    "TOTESYS_DSN": f"postgresql://reader:{SECRET}@src.example/totesys",
    "WAREHOUSE_DSN": f"postgresql://loader:{SECRET}@wh.example/warehouse",
    "INGESTION_BUCKET_URL": "s3://raw",
    "PROCESSED_BUCKET_URL": "s3://processed/base/",
}


def test_a_branch_deployment_gets_prefixed_buckets_and_its_own_schema_and_no_password_shows():
    endpoints = resolve_endpoints(BRANCH)
    assert endpoints.deployment is Deployment.BRANCH
    assert endpoints.ingestion.location == "s3://raw/branches/pr-42"
    assert endpoints.processed.location == "s3://processed/base/branches/pr-42"
    assert (endpoints.warehouse_schema, endpoints.dashboard.schema, endpoints.totesys.schema) == ("pr_42", "pr_42", "")
    assert endpoints.totesys.configured and not endpoints.dashboard.configured
    assert SECRET not in repr(endpoints)


def test_outside_local_an_unset_endpoint_fails_naming_its_variable_only_when_it_is_used():
    endpoints = resolve_endpoints({"DAGSTER_CLOUD_DEPLOYMENT_NAME": "prod", "WAREHOUSE_DSN": " "})  # blank = unset
    with pytest.raises(ConfigurationError, match="WAREHOUSE_DSN must be set in this deployment"):
        endpoints.warehouse.conninfo()
    with pytest.raises(ConfigurationError, match="INGESTION_BUCKET_URL must be set in this deployment"):
        endpoints.ingestion.location  # noqa: B018 - the property is what raises


def test_in_a_branch_deployment_the_dashboard_starts_in_the_branch_schema(make_database):
    from reveries_pipeline.dashboard.connection import dashboard_dsn

    dsn = make_database("warehouse")
    env = BRANCH | {"DASHBOARD_DSN": dsn, "WAREHOUSE_DSN": dsn}
    with psycopg.connect(dashboard_dsn(resolve_endpoints(env))) as conn:
        assert conn.execute("SHOW search_path").fetchone()[0] == "pr_42"
    # the dashboard's child process asks again with that DSN: the schema is not added twice
    served = dashboard_dsn(resolve_endpoints(env))
    assert dashboard_dsn(resolve_endpoints(env | {"DASHBOARD_DSN": served})) == served
