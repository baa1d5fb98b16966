"""Set an unreadable lake object aside and have the stage that wrote it recapture what it held.

The object moves under `_quarantine/<key>`, next to a JSON record of why. Then the owning stage
rewinds: a raw batch rewinds its table's ingestion checkpoint (the rows come back from the source),
a processed batch rewinds the processing checkpoint (the rows are rebuilt from the raw lake). The
order is copy, rewind, record, delete: a crash at any point leaves either the object in place or a
rewound checkpoint, and running the same command again finishes the job.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from reveries_pipeline.catalog import PROCESSED_TABLE_NAMES, SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline.lake.object_names import is_batch_key
from reveries_pipeline.processing.derived_state import REJECTS_PREFIX
from reveries_pipeline.processing.rewind import rewind_to_reprocess
from reveries_pipeline.resources.object_errors import ObjectExistsError
from reveries_pipeline.resources.object_store import STATE_PREFIX, ObjectStore

QUARANTINE_PREFIX = "_quarantine/"


class QuarantineError(ValueError):
    """The object can't (or shouldn't) be quarantined; the message says why."""


@dataclass(frozen=True)
class QuarantineRecord:
    bucket_url: str
    key: str
    quarantined_key: str
    reason: str
    read_error: str | None  # what reading it said; None when forced on a readable object
    bytes: int
    quarantined_at: str
    recapture: str  # what the owning stage did so the object's rows come back


def read_error(data: bytes) -> str | None:
    """Why these bytes are not a readable parquet file, or None if they are."""
    try:
        pq.read_table(io.BytesIO(data))
    except Exception as exc:  # any parse failure: truncated footer, bad pages, not parquet at all
        return f"{type(exc).__name__}: {exc}"
    return None


_KEY_FORM = "<table>/YYYY/MM/DD/<table>-<timestamp>Z.parquet, as the error or a listing names it"
# What each bucket holds that a quarantine can recapture: its tables' batches (and processing's rejects).
_OWNED_TABLES = {
    "ingestion": frozenset(SOURCE_TABLE_NAMES),
    "processed": frozenset((*PROCESSED_TABLE_NAMES, REJECTS_PREFIX)),
}


def _bucket_relative(store: ObjectStore, key: str) -> str:
    """`key` relative to the bucket: a key as listed, or the object's full s3:// URL or local path
    (file:// or absolute) if that lies inside this bucket."""
    if key.startswith("s3://"):
        roots = [store.url.rstrip("/")] if store.is_s3 else []
    elif not store.is_s3 and key.startswith(("file://", "/")):
        root = Path(store.url.removeprefix("file://")).expanduser()
        roots = [str(root.absolute()), str(root.resolve())]
        key = key.removeprefix("file://")
    else:
        return key
    for root in roots:
        if key.startswith(root + "/"):
            return key[len(root) + 1 :]
    raise QuarantineError(f"{key!r} is not inside bucket {store.url}: give the key relative to it ({_KEY_FORM})")


def normalise_key(store: ObjectStore, key: str) -> str:
    """The bucket-relative key `key` names in `store`, or QuarantineError: nothing is read or written
    for a key that isn't plainly one object of this bucket."""
    if not key.strip():
        raise QuarantineError(f"the object key is empty: give it as {_KEY_FORM}")
    if not key.isprintable() or "\\" in key:
        raise QuarantineError(f"{key!r} has a control character or a backslash: give the key as {_KEY_FORM}")
    relative = _bucket_relative(store, key)
    if relative.startswith("/") or any(part in ("", ".", "..") for part in relative.split("/")):
        raise QuarantineError(
            f"{key!r} is not a plain object key (a leading '/', or an empty, '.' or '..' part): give it as {_KEY_FORM}"
        )
    return relative


def _check_owner(key: str, stage: str) -> str:
    """The table whose batch `key` is, if this stage's bucket owns such batches; else QuarantineError."""
    if key.startswith((STATE_PREFIX, QUARANTINE_PREFIX)):
        raise QuarantineError(f"{key!r} is pipeline state or already quarantined, not a batch object")
    table = key.split("/", 1)[0]
    if not is_batch_key(key, table):
        raise QuarantineError(f"{key!r} is not a batch key: give it as {_KEY_FORM}")
    if table not in _OWNED_TABLES[stage]:
        raise QuarantineError(
            f"{key!r} is not a batch of the {stage} bucket (its tables: {', '.join(sorted(_OWNED_TABLES[stage]))})"
        )
    return table


def _rewind_owner(store: ObjectStore, key: str, table: str, stage: str) -> str:
    """Have the stage that wrote `key` produce its rows again; returns what it did."""
    if table == REJECTS_PREFIX:
        return "a rejects report: nothing to recapture (the rejected rows are re-reported when fixed)"
    if stage == "ingestion":
        return CheckpointStore(store).rewind_to_recapture(table, key)
    return rewind_to_reprocess(store, key)


def _put_if_absent(store: ObjectStore, key: str, data: bytes) -> None:
    try:
        store.put_new_bytes(key, data)
    except ObjectExistsError:
        pass  # a re-run after a crash finds its own earlier copy


def quarantine_object(store: ObjectStore, key: str, stage: str, reason: str, force: bool = False) -> QuarantineRecord:
    """Move `key` (in the `stage` bucket: "ingestion" or "processed") to `_quarantine/` and rewind its
    owner. The key is checked before anything is read: it must name one batch this stage owns (its
    full URL or path inside the bucket is accepted). A readable object is refused unless `force`:
    quarantining a good batch costs a recapture."""
    if stage not in _OWNED_TABLES:
        raise QuarantineError(f"stage must be 'ingestion' or 'processed', not {stage!r}")
    key = normalise_key(store, key)
    table = _check_owner(key, stage)
    data = store.get_bytes(key)
    if data is None:
        raise QuarantineError(f"no object {key!r} in bucket {store.url}")
    error = read_error(data)
    if error is None and not force:
        raise QuarantineError(f"{key!r} in {store.url} reads fine: quarantine it anyway with --force")
    target = QUARANTINE_PREFIX + key
    _put_if_absent(store, target, data)
    recapture = _rewind_owner(store, key, table, stage)
    record = QuarantineRecord(
        bucket_url=store.url,
        key=key,
        quarantined_key=target,
        reason=reason,
        read_error=error,
        bytes=len(data),
        quarantined_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        recapture=recapture,
    )
    _put_if_absent(store, f"{target}.json", json.dumps(asdict(record), indent=1).encode())
    store.delete(key)
    return record


def quarantined(store: ObjectStore) -> list[dict]:
    """The records of every object quarantined in this bucket, oldest key first."""
    records = []
    for info in store.list_objects(QUARANTINE_PREFIX):
        if info.key.endswith(".json"):
            records.append(json.loads(store.get_bytes(info.key)))
    return records
