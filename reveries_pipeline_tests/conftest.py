"""Real components for every test: one embedded PostgreSQL per session (a database per test) and a
real S3 endpoint on loopback (moto's ThreadedMotoServer), reached through AWS_ENDPOINT_URL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from reveries_pipeline.embedded import embedded_server
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline_tests.support import create_database, drop_databases, free_port, new_s3_bucket

# The loaded worlds (a seeded source, a loaded warehouse, two buckets) of faults/ and hostile/.
pytest_plugins = ["reveries_pipeline_tests.worlds"]


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """The embedded PostgreSQL 18 server, started once per test session. Its data directory's path is
    too long for a unix socket, so every run exercises the private socket directory it then needs."""
    pgdata = tmp_path_factory.mktemp("pg") / ("data-directory-whose-path-is-too-long-for-a-unix-socket" * 2)
    return embedded_server(str(pgdata))


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """An embedded server of the module's own, for tests that stop or crash it (stopping the shared
    one would cut off every other test)."""
    server = embedded_server(str(tmp_path_factory.mktemp("own-pg") / "pgdata"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_admin_uri(pg_server) -> str:
    return pg_server.get_uri("postgres")


@pytest.fixture(scope="session")
def seeded_template(pg_server, pg_admin_uri) -> str:
    """A small totesys (scale 0.05, seed 7), seeded once per session: tests get copies of it."""
    from reveries_pipeline.totesys.seed import seed_totesys

    name = f"tpl_totesys_{uuid.uuid4().hex[:8]}"
    create_database(pg_admin_uri, name)
    seed_totesys(pg_server.get_uri(name), scale=0.05, seed=7)
    PostgresResource.close_pools()  # a template must have no other sessions
    return name


@pytest.fixture
def make_database(pg_admin_uri, pg_server):
    """Factory: a fresh database for this test, empty or a copy of `template`; returns its libpq URI."""
    created: list[str] = []

    def make(label: str = "db", template: str | None = None) -> str:
        name = f"t_{label}_{uuid.uuid4().hex[:10]}"
        create_database(pg_admin_uri, name, template)
        created.append(name)
        return pg_server.get_uri(name)

    yield make
    PostgresResource.close_pools()
    drop_databases(pg_admin_uri, created)


@pytest.fixture
def totesys_dsn(make_database) -> str:
    return make_database("totesys")


@pytest.fixture
def warehouse_dsn(make_database) -> str:
    return make_database("warehouse")


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 API on loopback; boto3 (and anything else honouring AWS_ENDPOINT_URL) talks to it."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {
        k: os.environ.get(k)
        for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION")
    }
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S105 - moto accepts any credentials
        AWS_DEFAULT_REGION="eu-west-2",
        AWS_REGION="eu-west-2",
    )
    yield endpoint
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(params=["local", "s3"])
def bucket_kind(request) -> str:
    """Parametrises a test over a local-directory bucket and an S3 bucket on loopback."""
    return request.param


@pytest.fixture
def make_bucket_url(bucket_kind, tmp_path, request):
    """Factory: a fresh, empty bucket URL of the current kind (local or s3)."""

    def make(label: str) -> str:
        if bucket_kind == "s3":
            endpoint = request.getfixturevalue("s3_endpoint")
            return new_s3_bucket(endpoint, label) + "/lake"
        path: Path = tmp_path / label
        path.mkdir()
        return str(path)

    return make


@pytest.fixture
def ingestion_store(make_bucket_url) -> ObjectStore:
    return ObjectStore(url=make_bucket_url("ingestion"))


@pytest.fixture
def processed_store(make_bucket_url) -> ObjectStore:
    return ObjectStore(url=make_bucket_url("processed"))


@pytest.fixture
def seeded_source(make_database, seeded_template) -> str:
    """A small totesys (scale 0.05) with the real data's shape: a copy of the session's seeded template
    (CREATE DATABASE ... TEMPLATE, ~0.1 s instead of a seed per test)."""
    return make_database("totesys", template=seeded_template)


@pytest.fixture
def pipeline(seeded_source, warehouse_dsn, ingestion_store, processed_store):
    from reveries_pipeline_tests.pipeline_harness import Pipeline

    return Pipeline(seeded_source, warehouse_dsn, ingestion_store, processed_store)
