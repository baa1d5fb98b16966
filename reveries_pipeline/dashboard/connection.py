"""The dashboard's connection: its own read-only role (DASHBOARD_DSN), never the loader's read-write
WAREHOUSE_DSN. On the embedded default the role is created for you."""

from __future__ import annotations

from functools import cache

from psycopg.conninfo import make_conninfo

from reveries_pipeline.config import DASHBOARD_DSN, WAREHOUSE_DSN
from reveries_pipeline.embedded import embedded_dsn, ensure_read_only_role
from reveries_pipeline.endpoints import Endpoints, resolve_endpoints, search_path_conninfo

DASHBOARD_ROLE = "reveries_dashboard"
# A dashboard query that runs longer fails with PostgreSQL's query_canceled rather than pile up.
STATEMENT_TIMEOUT = "5s"
WAREHOUSE_DATABASE = "warehouse"
CREATE_ROLE_COMMAND = 'reveries warehouse dashboard-role | psql "$WAREHOUSE_DSN"'


class DashboardRoleMissing(RuntimeError):
    """WAREHOUSE_DSN is set and DASHBOARD_DSN is not: the dashboard will not fall back to the loader's role."""


def dashboard_dsn(endpoints: Endpoints | None = None) -> str:
    """DASHBOARD_DSN when set (in a branch deployment's schema); the embedded default's read-only role
    when neither it nor WAREHOUSE_DSN is; else DashboardRoleMissing, saying how to create the role.
    The endpoints are the process environment's unless given."""
    endpoints = endpoints or resolve_endpoints()
    if endpoints.dashboard.dsn is not None:
        return search_path_conninfo(endpoints.dashboard.dsn, endpoints.dashboard.schema)
    if endpoints.warehouse.configured:
        raise DashboardRoleMissing(
            f"{DASHBOARD_DSN} is not set, and the dashboard will not connect with {WAREHOUSE_DSN}, the "
            f"loader's read-write role. Create its read-only role once, as the warehouse's owner:\n"
            f"  {CREATE_ROLE_COMMAND}\n"
            f"then give it a password (psql \"$WAREHOUSE_DSN\" -c '\\password {DASHBOARD_ROLE}') and set "
            f"{DASHBOARD_DSN} to the same DSN as {WAREHOUSE_DSN} with user {DASHBOARD_ROLE} and that password."
        )
    return embedded_dashboard_dsn()


@cache
def embedded_dashboard_dsn() -> str:
    """The embedded warehouse as DASHBOARD_ROLE, which is created (once per process) if absent. Peer
    authentication lets this OS user log in as any role, so the DSN needs no password."""
    admin = embedded_dsn(WAREHOUSE_DATABASE)
    ensure_read_only_role(admin, WAREHOUSE_DATABASE, DASHBOARD_ROLE, STATEMENT_TIMEOUT)
    return make_conninfo(admin, user=DASHBOARD_ROLE, password=None)
