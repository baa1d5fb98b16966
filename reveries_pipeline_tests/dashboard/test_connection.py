"""The dashboard connects with its own read-only role: DASHBOARD_DSN, or on the embedded default a
role made for it; never with the loader's read-write WAREHOUSE_DSN."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from reveries_pipeline.cli import main
from reveries_pipeline.dashboard.connection import (
    CREATE_ROLE_COMMAND,
    DASHBOARD_ROLE,
    STATEMENT_TIMEOUT,
    DashboardRoleMissing,
    dashboard_dsn,
    embedded_dashboard_dsn,
)
from reveries_pipeline_tests.roles import assert_reads_only, temporary_role

LOADER_DSN = "postgresql://loader:loader-secret@warehouse.example/warehouse"


def test_with_only_the_loaders_dsn_the_dashboard_refuses_and_says_how_to_make_its_role(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", LOADER_DSN)
    monkeypatch.delenv("DASHBOARD_DSN", raising=False)
    with pytest.raises(DashboardRoleMissing) as refused:
        dashboard_dsn()
    assert CREATE_ROLE_COMMAND in str(refused.value) and "DASHBOARD_DSN" in str(refused.value)

    result = CliRunner().invoke(main, ["dashboard", "--port", "1"])
    assert result.exit_code == 2, result.output
    assert CREATE_ROLE_COMMAND in result.output and "Traceback" not in result.output
    assert "loader-secret" not in result.output
    # the command it prints is one this CLI has
    assert CliRunner().invoke(main, CREATE_ROLE_COMMAND.split("|")[0].split()[1:]).exit_code == 0


def test_a_dashboard_dsn_that_is_set_is_the_one_used(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_DSN", LOADER_DSN)
    monkeypatch.setenv("DASHBOARD_DSN", "postgresql://reveries_dashboard@warehouse.example/warehouse")
    assert dashboard_dsn() == "postgresql://reveries_dashboard@warehouse.example/warehouse"


def test_the_printed_sql_makes_a_read_only_role_on_a_fresh_warehouse(make_database, monkeypatch):
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    dsn = make_database("warehouse")
    with temporary_role(dsn) as role:
        args = ["warehouse", "dashboard-role", "--role", role, "--statement-timeout", "200ms"]
        printed = CliRunner().invoke(main, args)
        assert printed.exit_code == 0, printed.output
        with psycopg.connect(dsn, autocommit=True) as conn:  # as a DBA pipes it to psql
            conn.execute(printed.output)
            conn.execute(printed.output)  # running it again changes nothing
        assert_reads_only(dsn, role, "200ms")


def test_on_the_embedded_default_the_dashboard_gets_a_read_only_role_of_its_own(pg_server, tmp_path, monkeypatch):
    for var in ("WAREHOUSE_DSN", "DASHBOARD_DSN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REVERIES_HOME", str(tmp_path))
    (tmp_path / "pg").symlink_to(Path(pg_server.pgdata))  # this session's server as the embedded default
    embedded_dashboard_dsn.cache_clear()
    try:
        dsn = dashboard_dsn()
    finally:
        embedded_dashboard_dsn.cache_clear()
    assert {k: conninfo_to_dict(dsn).get(k) for k in ("user", "dbname")} == {
        "user": DASHBOARD_ROLE,
        "dbname": "warehouse",
    }
    admin = make_conninfo(dsn, user="postgres")
    assert_reads_only(admin, DASHBOARD_ROLE, STATEMENT_TIMEOUT, outlast_timeout=False)
