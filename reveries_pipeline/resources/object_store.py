"""One object-store interface over S3 (or any S3-compatible endpoint) and a local directory.

Batch objects are immutable: `put_new` refuses to replace an existing key. Small state documents
(checkpoints) live under `_state/` and are replaced atomically with `put_state`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

STATE_PREFIX = "_state/"
# botocore attempts per S3 call (standard retry mode) when no S3Resource is given.
DEFAULT_S3_ATTEMPTS = 8


class ObjectExistsError(FileExistsError):
    """Raised when a write would replace an immutable object."""


class ObjectTooLargeError(ValueError):
    """An immutable object too large to write conditionally (S3: one PUT holds at most 5 GiB)."""


MAX_CONDITIONAL_PUT_BYTES = 5 * 1024**3


class UnreadableObjectError(RuntimeError):
    """A lake object that exists but cannot be read (truncated, corrupt). Names the bucket and key,
    and how to set it aside: `reveries quarantine` moves it under `_quarantine/` and has the stage
    that wrote it recapture what it held."""

    def __init__(self, bucket_url: str, key: str, reason: str):
        self.bucket_url, self.key, self.reason = bucket_url, key, reason
        super().__init__(
            f"cannot read object {key!r} in bucket {bucket_url}: {reason}. If the object is corrupt, set it "
            f"aside with `reveries quarantine --bucket-url {bucket_url} {key} --reason '...'` (docs/runbook.md)"
        )


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class _Backend(Protocol):
    def put_new_file(self, key: str, path: Path) -> None: ...
    def put_replace(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def download(self, key: str, path: Path) -> None: ...
    def list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]: ...
    def delete_prefix(self, prefix: str) -> int: ...


class _LocalBackend:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        root = self.root.resolve()
        path = (root / key).resolve()
        if path != root and root not in path.parents:
            raise ValueError(f"object key escapes the bucket: {key!r}")
        return path

    def put_new_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as tmp:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, tmp, 1 << 20)
            tmp.flush()
            os.fsync(tmp.fileno())
        try:
            os.link(tmp.name, target)  # atomic and fails if the key exists: never overwrites
        except FileExistsError as exc:
            raise ObjectExistsError(key) from exc
        finally:
            os.unlink(tmp.name)

    def put_replace(self, key: str, data: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def download(self, key: str, path: Path) -> None:
        shutil.copyfile(self._path(key), path)

    def list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        # Keys are listed in the same lexicographic order as S3 returns them.
        base = self.root
        found: list[ObjectInfo] = []
        if not prefix:
            search_root = self._path("")
        else:
            search_root = self._path(prefix) if prefix.endswith("/") else self._path(prefix).parent
        if not search_root.exists():
            return iter(())
        for dirpath, _dirs, files in os.walk(search_root):
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(base).as_posix()
                if key.startswith(prefix) and (start_after is None or key > start_after):
                    found.append(ObjectInfo(key, full.stat().st_size))
        return iter(sorted(found, key=lambda o: o.key))

    def delete_prefix(self, prefix: str) -> int:
        keys = [o.key for o in self.list(prefix, None)]
        for key in keys:
            self._path(key).unlink()
        return len(keys)


class _S3Backend:
    def __init__(self, bucket: str, prefix: str, client):
        self.bucket, self.prefix, self.client = bucket, prefix, client

    def _k(self, key: str) -> str:
        return self.prefix + key

    def put_new_file(self, key: str, path: Path) -> None:
        from botocore.exceptions import ClientError

        # One conditional PUT: S3 itself refuses the write if the key exists, so two writers racing
        # for one key can't both succeed. (upload_file's multipart path takes no IfNoneMatch in the
        # pinned s3transfer, and an unconditional write could replace a batch.)
        size = path.stat().st_size
        if size > MAX_CONDITIONAL_PUT_BYTES:
            raise ObjectTooLargeError(
                f"{key}: {size} bytes is over the {MAX_CONDITIONAL_PUT_BYTES} bytes S3 takes in one conditional "
                "PUT; refusing to write it unconditionally, which could replace an existing object"
            )
        try:
            with open(path, "rb") as body:
                self.client.put_object(Bucket=self.bucket, Key=self._k(key), Body=body, IfNoneMatch="*")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise ObjectExistsError(key) from exc
            raise

    def put_replace(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._k(key), Body=data)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._k(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def download(self, key: str, path: Path) -> None:
        self.client.download_file(self.bucket, self._k(key), str(path))

    def list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        # StartAfter makes each listing cost O(new keys) when keys sort in write order.
        kwargs = {"Bucket": self.bucket, "Prefix": self._k(prefix)}
        if start_after:
            kwargs["StartAfter"] = self._k(start_after)
        for page in self.client.get_paginator("list_objects_v2").paginate(**kwargs):
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"][len(self.prefix) :], obj["Size"])

    def delete_prefix(self, prefix: str) -> int:
        keys = [o.key for o in self.list(prefix, None)]
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": self._k(k)} for k in chunk]})
        return len(keys)


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

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    @cached_property
    def _backend(self) -> _Backend:
        if self.is_s3:
            bucket, _, prefix = self.url[len("s3://") :].partition("/")
            if not bucket:
                raise ValueError(f"bucket URL has no bucket name: {self.url!r}")
            prefix = prefix.strip("/")
            client = (self.s3 or S3Resource(max_attempts=DEFAULT_S3_ATTEMPTS)).get_client()
            return _S3Backend(bucket, prefix + "/" if prefix else "", client)
        if "://" in self.url and not self.url.startswith("file://"):
            raise ValueError(f"unsupported bucket URL {self.url!r}: use s3://bucket[/prefix] or a local path")
        return _LocalBackend(Path(self.url.removeprefix("file://")).expanduser())

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

    def get_bytes(self, key: str) -> bytes | None:
        return self._backend.get(key)

    def download(self, key: str, path: Path) -> None:
        self._backend.download(key, path)

    def list_objects(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in key order, strictly after `start_after`."""
        return self._backend.list(prefix, start_after)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under a prefix; only the rebuild runbook uses this, for derived state."""
        return self._backend.delete_prefix(prefix)
