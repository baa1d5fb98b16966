from __future__ import annotations

import itertools

import psycopg
import pytest

from reveries_pipeline.ingestion.logical import drop_sql
from reveries_pipeline.totesys.schema import apply_totesys_ddl
from reveries_pipeline_tests.ingestion.logical.support import insert_base_rows, new_settings


@pytest.fixture
def cdc_source(totesys_dsn) -> str:
    """A totesys database with one row per table (no publication or slot yet)."""
    with psycopg.connect(totesys_dsn, autocommit=True) as conn:
        apply_totesys_ddl(conn)
        insert_base_rows(conn)
    return totesys_dsn


@pytest.fixture
def cdc_settings(totesys_dsn):
    """Unique publication and slot names; the slot is dropped afterwards (it would hold the shared
    server's WAL, and a database with a slot can't be dropped while the slot is in use)."""
    settings = new_settings()
    yield settings
    with psycopg.connect(totesys_dsn, autocommit=True) as conn:
        conn.execute(drop_sql(settings))


@pytest.fixture
def conn(cdc_source):
    with psycopg.connect(cdc_source, autocommit=True) as conn:
        yield conn


@pytest.fixture
def spool_dirs(tmp_path):
    """Fresh spool directories: next(spool_dirs) for each capture."""
    return (tmp_path / f"spool-{n}" for n in itertools.count())
