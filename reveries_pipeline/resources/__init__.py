"""Shared plumbing: object storage, PostgreSQL access and the embedded default."""

from reveries_pipeline.resources.object_backends import ObjectInfo
from reveries_pipeline.resources.object_store import ObjectStore
from reveries_pipeline.resources.postgres import PostgresResource, redact_dsn

__all__ = ["ObjectInfo", "ObjectStore", "PostgresResource", "redact_dsn"]
