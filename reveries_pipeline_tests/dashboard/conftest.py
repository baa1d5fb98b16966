"""One seeded copy of the hand-made warehouse (warehouse_fixture.py) per module: the dashboard's queries only read."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from reveries_pipeline_tests.dashboard.warehouse_fixture import seed_warehouse


@pytest.fixture(scope="module")
def seeded(pg_server, pg_admin_uri):
    """The DSN of a warehouse holding exactly the rows of warehouse_fixture.py."""
    name = f"t_dash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = pg_server.get_uri(name)
    seed_warehouse(dsn)
    yield dsn
    with psycopg.connect(pg_admin_uri, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def conn(seeded):
    with psycopg.connect(seeded, autocommit=True) as c:
        yield c
