"""Where a bucket's objects live: a local directory, or S3 (any S3-compatible endpoint).

Both keep the same promises: a new object never replaces an existing key, a replaced state document
is swapped in atomically, and listings are in key order.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from reveries_pipeline.resources.object_errors import ObjectExistsError, ObjectTooLargeError

# S3's largest single PUT, which is the only kind that can be conditional (If-None-Match).
MAX_CONDITIONAL_PUT_BYTES = 5 * 1024**3


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class Backend(Protocol):
    def put_new_file(self, key: str, path: Path) -> None: ...
    def put_replace(self, key: str, data: bytes) -> None: ...
    def get(self, key: str, check_size: Callable[[int], None]) -> bytes | None: ...
    def read_tail(self, key: str, nbytes: int) -> tuple[bytes, int] | None: ...
    def copy_head(self, key: str, stop: int, out: BinaryIO) -> None: ...
    def list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> int: ...


class LocalBackend:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_of(self, key: str) -> Path:
        root = self.root.resolve()
        path = (root / key).resolve()
        if path != root and root not in path.parents:
            raise ValueError(f"object key escapes the bucket: {key!r}")
        return path

    def put_new_file(self, key: str, path: Path) -> None:
        target = self.path_of(key)
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
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, target)

    def get(self, key: str, check_size: Callable[[int], None]) -> bytes | None:
        try:
            with open(self.path_of(key), "rb") as file:
                check_size(os.fstat(file.fileno()).st_size)
                return file.read()
        except FileNotFoundError:
            return None

    def read_tail(self, key: str, nbytes: int) -> tuple[bytes, int] | None:
        try:
            with open(self.path_of(key), "rb") as file:
                size = os.fstat(file.fileno()).st_size
                file.seek(max(0, size - nbytes))
                return file.read(nbytes), size
        except FileNotFoundError:
            return None

    def copy_head(self, key: str, stop: int, out: BinaryIO) -> None:
        with open(self.path_of(key), "rb") as file:
            _copy_exactly(file, out, stop)

    def list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        # Keys are listed in the same lexicographic order as S3 returns them.
        base = self.root
        found: list[ObjectInfo] = []
        if not prefix:
            search_root = self.path_of("")
        else:
            search_root = self.path_of(prefix) if prefix.endswith("/") else self.path_of(prefix).parent
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
        self.path_of(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        keys = [o.key for o in self.list(prefix, None)]
        for key in keys:
            self.path_of(key).unlink()
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


class S3Backend:
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
