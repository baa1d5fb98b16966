"""One object-store interface over S3 (or any S3-compatible endpoint) and a local directory.

Batch objects are immutable: `put_new` refuses to replace an existing key. Small state documents
(checkpoints) live under `_state/` and are replaced atomically with `put_state`.

Reads are held to limits (read_limits.py): an object's size is checked before its body is read, and a
parquet batch's footer (lake/parquet.py) before its data; one over a limit is named, never read.
The backends (object_backends.py) do the storing; the errors are in object_errors.py.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

from reveries_pipeline.resources.object_backends import Backend, LocalBackend, ObjectInfo, S3Backend
from reveries_pipeline.resources.read_limits import (
    DEFAULT_MAX_OBJECT_BYTES,
    DEFAULT_MAX_OBJECT_ROWS,
    DEFAULT_MAX_STATE_BYTES,
    MAX_OBJECT_BYTES_ENV,
    MAX_OBJECT_ROWS_ENV,
    MAX_STATE_BYTES_ENV,
    ObjectOverLimitError,
    ReadLimits,
    read_limit,
)

STATE_PREFIX = "_state/"
# botocore attempts per S3 call (standard retry mode) when no S3Resource is given.
DEFAULT_S3_ATTEMPTS = 8


class ObjectStore(ConfigurableResource):
    """A bucket: `s3://bucket[/prefix]` or a local directory path.

    The S3 client comes from dagster-aws's `S3Resource` (endpoint, region, profile, retries). Left
    unset, it follows the usual AWS chain: AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 (an http endpoint
    works), AWS_REGION / AWS_DEFAULT_REGION and the standard credential providers.
    """

    url: str = Field(description="s3://bucket[/prefix], or a local directory path")
    s3: S3Resource | None = Field(
        default=None, description="S3 client settings; unset means the AWS chain with DEFAULT_S3_ATTEMPTS retries"
    )
    max_object_bytes: int | None = Field(
        default=None,
        gt=0,
        description=f"Largest batch object read, in bytes, stored or decoded (unset: ${MAX_OBJECT_BYTES_ENV}, "
        f"else {DEFAULT_MAX_OBJECT_BYTES})",
    )
    max_object_rows: int | None = Field(
        default=None,
        gt=0,
        description=f"Most rows a batch object read may hold (unset: ${MAX_OBJECT_ROWS_ENV}, "
        f"else {DEFAULT_MAX_OBJECT_ROWS})",
    )
    max_state_bytes: int | None = Field(
        default=None,
        gt=0,
        description=f"Largest JSON state document read, in bytes (unset: ${MAX_STATE_BYTES_ENV}, "
        f"else {DEFAULT_MAX_STATE_BYTES})",
    )

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    @cached_property
    def _backend(self) -> Backend:
        if self.is_s3:
            bucket, _, prefix = self.url[len("s3://") :].partition("/")
            if not bucket:
                raise ValueError(f"bucket URL has no bucket name: {self.url!r}")
            prefix = prefix.strip("/")
            client = (self.s3 or S3Resource(max_attempts=DEFAULT_S3_ATTEMPTS)).get_client()
            return S3Backend(bucket, prefix + "/" if prefix else "", client)
        if "://" in self.url and not self.url.startswith("file://"):
            raise ValueError(f"unsupported bucket URL {self.url!r}: use s3://bucket[/prefix] or a local path")
        return LocalBackend(Path(self.url.removeprefix("file://")).expanduser())

    def put_new_file(self, key: str, path: Path) -> None:
        """Store a file under a key that must not exist yet (immutable batches)."""
        self._backend.put_new_file(key, path)

    def put_new_bytes(self, key: str, data: bytes) -> None:
        with tempfile.NamedTemporaryFile() as tmp:
            tmp.write(data)
            tmp.flush()
            self._backend.put_new_file(key, Path(tmp.name))

    def put_state(self, key: str, data: bytes) -> None:
        """Replace a small state document under `_state/` (checkpoints)."""
        if not key.startswith(STATE_PREFIX):
            raise ValueError(f"mutable writes are only allowed under {STATE_PREFIX}: {key!r}")
        self._backend.put_replace(key, data)

    @cached_property
    def limits(self) -> ReadLimits:
        """The read limits: each field if set, else its environment variable, else the default."""
        return ReadLimits(
            object_bytes=read_limit(
                self.max_object_bytes, "max_object_bytes", MAX_OBJECT_BYTES_ENV, DEFAULT_MAX_OBJECT_BYTES, "bytes"
            ),
            object_rows=read_limit(
                self.max_object_rows, "max_object_rows", MAX_OBJECT_ROWS_ENV, DEFAULT_MAX_OBJECT_ROWS, "rows"
            ),
            state_bytes=read_limit(
                self.max_state_bytes, "max_state_bytes", MAX_STATE_BYTES_ENV, DEFAULT_MAX_STATE_BYTES, "bytes"
            ),
        )

    def check_within_limits(
        self, key: str, *, size: int | None = None, rows: int | None = None, decoded_size: int | None = None
    ) -> None:
        """Raise ObjectOverLimitError if a batch object's size, row count or decoded size (each if
        known) is over its limit."""
        limits = self.limits
        for measure, amount, limit in (
            ("size", size, limits.object_bytes),
            ("row count", rows, limits.object_rows),
            ("decoded size", decoded_size, limits.object_bytes),
        ):
            if amount is not None and amount > limit.value:
                raise ObjectOverLimitError(self.url, key, measure, amount, limit)

    def get_bytes(self, key: str) -> bytes | None:
        """The whole object, or None if there is none. Its size is checked before its body is read: a
        JSON state document (`_state/...json`) against the state limit, anything else the object limit."""
        is_state_document = key.startswith(STATE_PREFIX) and key.endswith(".json")
        limit = self.limits.state_bytes if is_state_document else self.limits.object_bytes

        def check_size(size: int) -> None:
            if size > limit.value:
                raise ObjectOverLimitError(self.url, key, "size", size, limit)

        return self._backend.get(key, check_size)

    def read_tail(self, key: str, nbytes: int) -> tuple[bytes, int] | None:
        """The object's last `nbytes` bytes (all of it, if smaller) and its size; None if there is none.
        On S3 one ranged GET, which also gives the size."""
        return self._backend.read_tail(key, nbytes)

    def copy_head(self, key: str, stop: int, out: BinaryIO) -> None:
        """Stream the object's first `stop` bytes into `out` (one ranged GET on S3)."""
        self._backend.copy_head(key, stop, out)

    def local_path(self, key: str) -> Path | None:
        """Where the object is on disk, for a local bucket (None for S3): readers open it in place."""
        backend = self._backend
        return backend.path_of(key) if isinstance(backend, LocalBackend) else None

    def list_objects(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in key order, strictly after `start_after`."""
        return self._backend.list(prefix, start_after)

    def delete(self, key: str) -> None:
        """Delete the one object at `key` (nothing else, even if other keys start with it); absent is fine."""
        self._backend.delete(key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under a prefix: derived state a rebuild or reset starts over from."""
        return self._backend.delete_prefix(prefix)
