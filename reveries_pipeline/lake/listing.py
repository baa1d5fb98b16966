"""Finding new batch objects in a bucket, per table, in O(new keys).

Keys sort in write order within a table prefix (see object_names.py), so the last key seen per table is
a complete cursor: a listing with StartAfter returns exactly what arrived since. Sensors and stages
share this; the sensor's cursor is only a trigger, each stage keeps its own committed checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from reveries_pipeline.lake.object_names import is_batch_key
from reveries_pipeline.resources.object_backends import ObjectInfo
from reveries_pipeline.resources.object_store import ObjectStore


def new_batches(store: ObjectStore, table: str, after_key: str | None) -> list[ObjectInfo]:
    return [o for o in store.list_objects(f"{table}/", start_after=after_key) if is_batch_key(o.key, table)]


def parse_cursor(cursor: str | None) -> dict[str, str]:
    """A sensor cursor: JSON {table: last key seen}. An empty or foreign cursor starts from scratch."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def scan_new_batches(
    store: ObjectStore, tables: Iterable[str], cursor: dict[str, str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """New keys per table since `cursor`, and the advanced cursor."""
    found: dict[str, list[str]] = {}
    advanced = dict(cursor)
    for table in tables:
        keys = [o.key for o in new_batches(store, table, cursor.get(table))]
        if keys:
            found[table] = keys
            advanced[table] = keys[-1]
    return found, advanced


def run_key_for(found: dict[str, list[str]]) -> str:
    """A stable run key for a set of new batches: the same batches never launch two runs."""
    digest = hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()[:16]
    return f"batches-{digest}"
