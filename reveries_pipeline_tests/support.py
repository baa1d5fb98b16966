"""Helpers the tests share (fixtures live in conftest.py; plain functions live here)."""

from __future__ import annotations

import socket
import uuid


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
