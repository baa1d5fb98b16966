"""Loaded worlds for the fault and hostile-input suites: one loaded baseline per session, cloned per case.

Registered as a pytest plugin by the root conftest, so `faults/` and `hostile/` share one baseline per worker.

The baseline (a seeded source, a loaded warehouse, and the two buckets after one full run) is built
once; each case gets its own copy (CREATE DATABASE ... TEMPLATE and a copy of the bucket folders),
so a case starts loaded in well under a second and can break whatever it likes.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline_tests.faults.harness import FaultWorld, s3_env
from reveries_pipeline_tests.support import create_database, drop_databases


@dataclass(frozen=True)
class Baseline:
    source_db: str
    warehouse_db: str
    buckets: Path  # holds ingestion/ and processed/


@pytest.fixture(scope="session")
def fault_baseline(pg_server, pg_admin_uri, tmp_path_factory) -> Baseline:
    from reveries_pipeline.totesys.seed import seed_totesys
    from reveries_pipeline_tests.pipeline_harness import Pipeline

    tag = uuid.uuid4().hex[:8]
    baseline = Baseline(f"fault_src_{tag}", f"fault_wh_{tag}", tmp_path_factory.mktemp("fault_baseline"))
    for name in (baseline.source_db, baseline.warehouse_db):
        create_database(pg_admin_uri, name)
    source_dsn, warehouse_dsn = pg_server.get_uri(baseline.source_db), pg_server.get_uri(baseline.warehouse_db)
    seed_totesys(source_dsn, scale=0.05, seed=11)
    stores = [ObjectStore(url=str(baseline.buckets / name)) for name in ("ingestion", "processed")]
    Pipeline(source_dsn, warehouse_dsn, *stores).etl()
    PostgresResource.close_pools()  # a template must have no other sessions
    return baseline


def _clone_world(pg_server, pg_admin_uri, baseline: Baseline, home: Path, created: list[str]) -> FaultWorld:
    tag = uuid.uuid4().hex[:8]
    dsns = []
    for template in (baseline.source_db, baseline.warehouse_db):
        name = f"{template[:9]}_{tag}"
        create_database(pg_admin_uri, name, template)
        created.append(name)
        dsns.append(pg_server.get_uri(name))
    shutil.copytree(baseline.buckets, home / "lake")
    return FaultWorld(dsns[0], dsns[1], str(home / "lake" / "ingestion"), str(home / "lake" / "processed"), home)


@pytest.fixture
def world(pg_server, pg_admin_uri, fault_baseline, tmp_path):
    """A loaded source, warehouse and local buckets of this case's own."""
    created: list[str] = []
    yield _clone_world(pg_server, pg_admin_uri, fault_baseline, tmp_path, created)
    PostgresResource.close_pools()  # a template must have no other sessions
    drop_databases(pg_admin_uri, created)


def _upload_tree(root: Path, bucket_url: str) -> None:
    store = ObjectStore(url=bucket_url)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = path.relative_to(root).as_posix()
        if key.startswith("_state/"):
            store.put_state(key, path.read_bytes())
        else:
            store.put_new_file(key, path)


@pytest.fixture
def s3_world(world, s3_endpoint):
    """The same loaded world, with both buckets on the S3 endpoint on loopback."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2")
    for kind in ("ingestion", "processed"):
        bucket = f"fault-{kind}-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
        url = f"s3://{bucket}/lake"
        _upload_tree(Path(getattr(world, f"{kind}_url")), url)
        setattr(world, f"{kind}_url", url)
    world.extra_env.update(s3_env(s3_endpoint))
    return world
