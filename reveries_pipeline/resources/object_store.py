"""One object-store interface over S3 (or any S3-compatible endpoint) and a local directory.

Batch objects are immutable: `put_new` refuses to replace an existing key. Small state documents
(checkpoints) live under `_state/` and are replaced atomically with `put_state`.

Reads are held to limits (`ReadLimits`): an object's size is checked before its body is read, and a
parquet batch's footer (lake/parquet.py) before its data; one over a limit is named, never read.
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Protocol

from dagster import ConfigurableResource, Failure
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
            f"aside and recapture what it held (docs/runbook.md, 'A corrupt object'); run: "
            f"{quarantine_command(bucket_url, key)}"
        )


def quarantine_command(bucket_url: str, key: str) -> str:
    """The shell command that quarantines `key`, quoted so it works when pasted; last on its line so
    the operator can copy up to the end of it."""
    argv = ["reveries", "quarantine", "--bucket", bucket_url]
    if key.startswith("-"):
        argv.append("--")  # a key is never an option
    return shlex.join([*argv, key])


# Read limits. Every read of a lake object is checked against them before its data is read: a
# batch's stored size (from the listing or the GET's headers) and, from its parquet footer, its row
# count and decoded size; a JSON state document's size. Each is set by a field of the bucket's
# ObjectStore resource, else by an environment variable, else by a default far above totesys sizes.
MAX_OBJECT_BYTES_ENV = "REVERIES_LAKE_MAX_OBJECT_BYTES"
MAX_OBJECT_ROWS_ENV = "REVERIES_LAKE_MAX_OBJECT_ROWS"
MAX_STATE_BYTES_ENV = "REVERIES_LAKE_MAX_STATE_BYTES"
DEFAULT_MAX_OBJECT_BYTES = 2 * 1024**3
DEFAULT_MAX_OBJECT_ROWS = 50_000_000
DEFAULT_MAX_STATE_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class ReadLimit:
    """One limit, and where it is set (the over-limit error says how to raise it)."""

    value: int
    unit: str  # "bytes" or "rows"
    env_var: str
    field: str  # the ObjectStore field that overrides the variable


@dataclass(frozen=True)
class ReadLimits:
    object_bytes: ReadLimit  # a batch object: stored size, and decoded size from its footer
    object_rows: ReadLimit  # a batch object: rows, from its footer
    state_bytes: ReadLimit  # a JSON state document under _state/


class ObjectOverLimitError(Failure):
    """A lake object over a read limit; nothing of its data was read. Names the bucket, the key, what
    was measured and the limit, and how to raise the limit. A Dagster Failure: the step fails with
    this message as its error, and is not retried (the object won't shrink)."""

    def __init__(self, bucket_url: str, key: str, measure: str, amount: int, limit: ReadLimit):
        self.bucket_url, self.key, self.measure, self.amount, self.limit = bucket_url, key, measure, amount, limit
        super().__init__(
            description=(
                f"object {key!r} in bucket {bucket_url} is over the read limit: its {measure} is {amount:,} "
                f"{limit.unit}, the limit is {limit.value:,} {limit.unit}. Its data was not read. If the object "
                f"is expected, raise the limit ({limit.field} on the bucket's ObjectStore resource, or the "
                f"environment of the runs) and run again: export {limit.env_var}={2 * amount}"
            ),
            metadata={"bucket": bucket_url, "key": key, measure: amount, "limit": limit.value},
            allow_retries=False,
        )


def _positive_int(env_var: str, raw: str, unit: str) -> int:
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{env_var}={raw!r} is not a positive whole number of {unit}; unset it for the default")
    return value


def _read_limit(field_value: int | None, field: str, env_var: str, default: int, unit: str) -> ReadLimit:
    """The field's value if set, else the environment variable's, else the default."""
    if field_value is not None:
        value = field_value
    else:
        raw = os.environ.get(env_var, "").strip()  # empty means unset, as in a .env file
        value = _positive_int(env_var, raw, unit) if raw else default
    return ReadLimit(value, unit, env_var, field)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class _Backend(Protocol):
    def put_new_file(self, key: str, path: Path) -> None: ...
    def put_replace(self, key: str, data: bytes) -> None: ...
    def get(self, key: str, check_size: Callable[[int], None]) -> bytes | None: ...
    def read_tail(self, key: str, nbytes: int) -> tuple[bytes, int] | None: ...
    def copy_head(self, key: str, stop: int, out: BinaryIO) -> None: ...
    def list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]: ...
    def delete(self, key: str) -> None: ...
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

    def get(self, key: str, check_size: Callable[[int], None]) -> bytes | None:
        try:
            with open(self._path(key), "rb") as file:
                check_size(os.fstat(file.fileno()).st_size)
                return file.read()
        except FileNotFoundError:
            return None

    def read_tail(self, key: str, nbytes: int) -> tuple[bytes, int] | None:
        try:
            with open(self._path(key), "rb") as file:
                size = os.fstat(file.fileno()).st_size
                file.seek(max(0, size - nbytes))
                return file.read(nbytes), size
        except FileNotFoundError:
            return None

    def copy_head(self, key: str, stop: int, out: BinaryIO) -> None:
        with open(self._path(key), "rb") as file:
            _copy_exactly(file, out, stop)

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

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        keys = [o.key for o in self.list(prefix, None)]
        for key in keys:
            self._path(key).unlink()
        return len(keys)


def _copy_exactly(source, out: BinaryIO, nbytes: int) -> None:
    """Copy the first `nbytes` of `source` to `out` in 1 MiB pieces (never the whole in memory)."""
    left = nbytes
    while left > 0:
        chunk = source.read(min(left, 1 << 20))
        if not chunk:
            raise EOFError(f"the object ended {left} bytes short of the {nbytes} bytes expected")
        out.write(chunk)
        left -= len(chunk)


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

    def get(self, key: str, check_size: Callable[[int], None]) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._k(key))
        except self.client.exceptions.NoSuchKey:
            return None
        with closing(response["Body"]) as body:
            check_size(response["ContentLength"])  # from the headers: the body is not read yet
            return body.read()

    def read_tail(self, key: str, nbytes: int) -> tuple[bytes, int] | None:
        from botocore.exceptions import ClientError

        # One suffix-range GET: the object's last bytes, and its whole size from Content-Range (no HEAD).
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._k(key), Range=f"bytes=-{nbytes}")
        except self.client.exceptions.NoSuchKey:
            return None
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b"", 0  # S3 has no range of an empty object
            raise
        with closing(response["Body"]) as body:
            data = body.read()
        content_range = response.get("ContentRange")
        return data, int(content_range.rpartition("/")[2]) if content_range else len(data)

    def copy_head(self, key: str, stop: int, out: BinaryIO) -> None:
        if stop <= 0:
            return
        response = self.client.get_object(Bucket=self.bucket, Key=self._k(key), Range=f"bytes=0-{stop - 1}")
        with closing(response["Body"]) as body:
            _copy_exactly(body, out, stop)

    def list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        # StartAfter makes each listing cost O(new keys) when keys sort in write order.
        kwargs = {"Bucket": self.bucket, "Prefix": self._k(prefix)}
        if start_after:
            kwargs["StartAfter"] = self._k(start_after)
        for page in self.client.get_paginator("list_objects_v2").paginate(**kwargs):
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"][len(self.prefix) :], obj["Size"])

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._k(key))

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

    @cached_property
    def limits(self) -> ReadLimits:
        """The read limits: each field if set, else its environment variable, else the default."""
        return ReadLimits(
            object_bytes=_read_limit(
                self.max_object_bytes, "max_object_bytes", MAX_OBJECT_BYTES_ENV, DEFAULT_MAX_OBJECT_BYTES, "bytes"
            ),
            object_rows=_read_limit(
                self.max_object_rows, "max_object_rows", MAX_OBJECT_ROWS_ENV, DEFAULT_MAX_OBJECT_ROWS, "rows"
            ),
            state_bytes=_read_limit(
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
        return backend._path(key) if isinstance(backend, _LocalBackend) else None

    def list_objects(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in key order, strictly after `start_after`."""
        return self._backend.list(prefix, start_after)

    def delete(self, key: str) -> None:
        """Delete the one object at `key` (nothing else, even if other keys start with it); absent is fine."""
        self._backend.delete(key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under a prefix: derived state a rebuild or reset starts over from."""
        return self._backend.delete_prefix(prefix)
