"""Where this environment's endpoints are: the one place that works them out from the variables.

- **local** (`dagster dev`, tests, `make demo`): whatever is unset is served by the embedded default:
  an embedded PostgreSQL server (databases totesys, warehouse, dagster) and `.reveries/lake/*` folders.
- **branch** (`DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT`): the production endpoints, but buckets under a
  per-PR prefix and the warehouse in its own schema, so a pull request never touches prod data.
- **prod** (`DAGSTER_CLOUD_DEPLOYMENT_NAME=prod`): S3 and RDS from secrets; nothing falls back.

Everything asks `resolve_endpoints()`: the code location's resources (environment.build_resources),
the `reveries` commands and the dashboard, so all of them see the same databases, buckets and branch
schema. Nothing here imports Dagster or starts a server until a DSN is asked for.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reveries_pipeline.config import (
    DAGSTER_PG_URL,
    DASHBOARD_DSN,
    INGESTION_BUCKET_URL,
    PROCESSED_BUCKET_URL,
    TOTESYS_DSN,
    WAREHOUSE_DSN,
    embedded_bucket_dir,
    env_value,
)


class Deployment(StrEnum):
    LOCAL = "local"
    BRANCH = "branch"
    PROD = "prod"


class ConfigurationError(RuntimeError):
    pass


def deployment(env: Mapping[str, str] = os.environ) -> Deployment:
    if (env.get("DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT") or "").lower() in ("1", "true", "yes"):
        return Deployment.BRANCH
    if env.get("DAGSTER_CLOUD_DEPLOYMENT_NAME") == "prod":
        return Deployment.PROD
    return Deployment.LOCAL


def branch_label(env: Mapping[str, str]) -> str:
    """`pr-123` from the pull request number, else a slug of the git branch."""
    pr = env_value("DAGSTER_CLOUD_PULL_REQUEST_ID", env)
    if pr:
        return f"pr-{pr}"
    branch = env_value("DAGSTER_CLOUD_GIT_BRANCH", env) or "branch"
    return re.sub(r"[^a-z0-9]+", "-", branch.lower()).strip("-")[:40] or "branch"


def search_path_conninfo(conninfo: str, schema: str) -> str:
    """`conninfo` whose sessions start with `schema` first on the search_path (unchanged without one)."""
    if not schema:
        return conninfo
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    options = conninfo_to_dict(conninfo).get("options") or ""
    if f"search_path={schema}" in options.split():  # already there (a child process resolving again)
        return conninfo
    return make_conninfo(conninfo, options=f"{options} -c search_path={schema}".strip())


@dataclass(frozen=True)
class Database:
    """A PostgreSQL endpoint: the DSN in `variable`, or else the embedded default's `embedded_database`
    (where the deployment allows it)."""

    variable: str
    embedded_database: str
    dsn: str | None = field(default=None, repr=False)  # the variable's value: it may hold a password
    schema: str = ""  # a branch deployment's own schema (search_path)
    embedded_allowed: bool = True

    @property
    def configured(self) -> bool:
        return self.dsn is not None

    def require(self) -> None:
        """Outside local an unset variable is an error: nothing falls back to the embedded default."""
        if self.dsn is None and not self.embedded_allowed:
            raise ConfigurationError(
                f"{self.variable} must be set in this deployment (no embedded fallback outside local)"
            )

    def conninfo(self) -> str:
        """The DSN checked (a malformed one raises InvalidDsnError naming the variable, never its
        password), or the embedded database's, the server started or joined as needed."""
        self.require()
        from reveries_pipeline.resources.postgres import database_conninfo  # Dagster's import cost when used

        return database_conninfo(self.dsn or "", self.variable, self.embedded_database)

    def session_conninfo(self) -> str:
        """conninfo() in this endpoint's schema: what a plain psycopg connection should use."""
        return search_path_conninfo(self.conninfo(), self.schema)


@dataclass(frozen=True)
class Bucket:
    """A lake bucket: the URL in `variable` (s3://bucket[/prefix] or a folder), or else the embedded
    default's local folder (where the deployment allows it); a branch deployment adds its prefix."""

    variable: str
    url: str | None  # None: unset
    embedded_dir: str
    prefix: str = ""
    embedded_allowed: bool = True

    @property
    def configured(self) -> bool:
        return self.url is not None

    @property
    def location(self) -> str:
        """Where the bucket's objects go: its URL (plus the branch prefix), or the local folder."""
        url = self.url
        if url is None:
            if not self.embedded_allowed:
                raise ConfigurationError(
                    f"{self.variable} must be set in this deployment (no local bucket outside local)"
                )
            url = self.embedded_dir
        return f"{url.rstrip('/')}/{self.prefix}" if self.prefix else url


@dataclass(frozen=True)
class Endpoints:
    """Every endpoint of one environment. `dagster` is the persistent Dagster instance's storage."""

    deployment: Deployment
    totesys: Database
    warehouse: Database
    dashboard: Database
    dagster: Database
    ingestion: Bucket
    processed: Bucket

    @property
    def warehouse_schema(self) -> str:
        """The schema the warehouse is loaded into: a branch deployment's own, else '' (public)."""
        return self.warehouse.schema


def resolve_endpoints(env: Mapping[str, str] = os.environ) -> Endpoints:
    """The endpoints `env` (the process environment by default) names. Blank variables count as unset;
    an endpoint the deployment needs but lacks raises ConfigurationError when it is used."""
    kind = deployment(env)
    local = kind is Deployment.LOCAL
    label = branch_label(env) if kind is Deployment.BRANCH else ""
    schema = label.replace("-", "_")
    prefix = f"branches/{label}" if label else ""

    def database(variable: str, name: str, schema: str = "", embedded_allowed: bool = local) -> Database:
        return Database(variable, name, env_value(variable, env), schema, embedded_allowed)

    def bucket(variable: str, name: str) -> Bucket:
        return Bucket(variable, env_value(variable, env), str(embedded_bucket_dir(name)), prefix, local)

    return Endpoints(
        deployment=kind,
        totesys=database(TOTESYS_DSN, "totesys"),
        warehouse=database(WAREHOUSE_DSN, "warehouse", schema),
        # the dashboard and the Dagster instance fall back to the embedded default everywhere, as before
        dashboard=database(DASHBOARD_DSN, "warehouse", schema, embedded_allowed=True),
        dagster=database(DAGSTER_PG_URL, "dagster", embedded_allowed=True),
        ingestion=bucket(INGESTION_BUCKET_URL, "ingestion"),
        processed=bucket(PROCESSED_BUCKET_URL, "processed"),
    )
