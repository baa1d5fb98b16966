"""How lake objects are named: batch keys, the metadata that carries one, and object URIs.

A batch key is `<table>/<YYYY>/<MM>/<DD>/<table>-<YYYYMMDDTHHMMSSmmmZ>.parquet`.

Within a table, keys sort in write order, so a listing with StartAfter=<last key seen> returns exactly
the new batches. A new key is never earlier than the table's previous one, even if the clock steps back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reveries_pipeline.resources.object_errors import ObjectExistsError
from reveries_pipeline.resources.object_store import ObjectStore

# Output metadata naming the key a batch is (or must be) written to: an asset that must know its
# object's key names it, and its IO manager writes exactly there.
OBJECT_KEY_METADATA = "object_key"
# Output metadata with where a stored object is, for people and tools (Dagster's standard key).
URI_METADATA = "dagster/uri"

_KEY = re.compile(r"^(?P<table>[a-z_]+)/\d{4}/\d{2}/\d{2}/(?P=table)-(?P<ts>\d{8}T\d{9})Z\.parquet$")


def batch_key(table: str, at: datetime) -> str:
    at = at.astimezone(UTC)
    stamp = at.strftime("%Y%m%dT%H%M%S") + f"{at.microsecond // 1000:03d}"
    return f"{table}/{at:%Y/%m/%d}/{table}-{stamp}Z.parquet"


def key_time(key: str) -> datetime | None:
    match = _KEY.match(key)
    if not match:
        return None
    return datetime.strptime(match["ts"] + "000", "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)


def is_batch_key(key: str, table: str | None = None) -> bool:
    match = _KEY.match(key)
    return bool(match) and (table is None or match["table"] == table)


def next_batch_key(table: str, previous_key: str | None, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    previous = key_time(previous_key) if previous_key else None
    if previous is not None and now <= previous:
        now = previous + timedelta(milliseconds=1)
    return batch_key(table, now)


def put_new_batch(store: ObjectStore, table: str, path: Path, previous_key: str | None = None) -> str:
    """Store the file as the table's next batch, never overwriting; returns the key it went to.

    If another writer took the same millisecond, the next one is tried.
    """
    key = next_batch_key(table, previous_key)
    for _ in range(100):
        try:
            store.put_new_file(key, path)
            return key
        except ObjectExistsError:
            key = next_batch_key(table, key)
    raise RuntimeError(f"{table}: could not find a free batch key after {key}")


def object_uri(store: ObjectStore, key: str) -> str:
    """Where an object is, for people and tools: `s3://bucket/prefix/key`, or a `file://` URI."""
    if store.is_s3:
        return f"{store.url.rstrip('/')}/{key}"
    return (Path(store.url.removeprefix("file://")).expanduser().resolve() / key).as_uri()
