"""Helpers the tests share (fixtures live in conftest.py; plain functions live here)."""

from __future__ import annotations

import os
import socket
import uuid

import psycopg
from psycopg import sql


def free_port() -> int:
    """A loopback TCP port nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_s3_bucket(endpoint: str, label: str) -> str:
    """Create a uniquely named bucket on the S3 endpoint; returns its s3:// URL."""
    import boto3

    name = f"{label}-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    return f"s3://{name}"


def create_database(admin_uri: str, name: str, template: str | None = None) -> None:
    """CREATE DATABASE `name`, empty or as a copy of `template` (which must have no other sessions)."""
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(query)


def drop_databases(admin_uri: str, names: list[str]) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def subprocess_env(**overrides: str) -> dict[str, str]:
    """This process's environment for a child that must not inherit the test runner's Dagster instance
    or AWS settings, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "AWS_"))}
    return {**env, **overrides}


def lake_keys(store, prefix: str = "") -> list[str]:
    """The keys under `prefix` in a bucket, in listing (write) order."""
    return [o.key for o in store.list_objects(prefix)]


def lake_contents(store, prefix: str = "") -> dict[str, bytes]:
    """{key: bytes} of every object under `prefix`: a snapshot to compare a bucket before and after."""
    return {key: store.get_bytes(key) for key in lake_keys(store, prefix)}
