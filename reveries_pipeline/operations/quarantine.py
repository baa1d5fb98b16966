"""Set an unreadable lake object aside and have the stage that wrote it recapture what it held.

The object moves under `_quarantine/<key>`, next to a JSON record of why. Then the owning stage
rewinds: a raw batch rewinds its table's ingestion checkpoint (the rows come back from the source),
a processed batch rewinds the processing checkpoint (the rows are rebuilt from the raw lake). The
order is copy, record, rewind, delete: a crash at any point leaves either the object in place or a
rewound checkpoint, and running the same command again finishes the job.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pyarrow.parquet as pq

from reveries_pipeline.catalog import SOURCE_TABLES
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline.lake.batch_keys import is_batch_key
from reveries_pipeline.processing.derived_state import REJECTS_PREFIX
from reveries_pipeline.processing.state import ProcessingStateStore
from reveries_pipeline.resources.object_store import STATE_PREFIX, ObjectExistsError, ObjectStore

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


def _object_bytes(store: ObjectStore, key: str) -> bytes:
    if key.startswith((STATE_PREFIX, QUARANTINE_PREFIX)):
        raise QuarantineError(f"{key!r} is pipeline state or already quarantined, not a batch object")
    data = store.get_bytes(key)
    if data is None:
        raise QuarantineError(f"no object {key!r} in bucket {store.url}")
    return data


def _rewind_owner(store: ObjectStore, key: str, stage: str) -> str:
    """Have the stage that wrote `key` produce its rows again; returns what it did."""
    if key.startswith(REJECTS_PREFIX):
        return "a rejects report: nothing to recapture (the rejected rows are re-reported when fixed)"
    table = key.split("/", 1)[0]
    if not is_batch_key(key, table):
        raise QuarantineError(f"{key!r} is not a batch key (<table>/YYYY/MM/DD/<table>-<timestamp>Z.parquet)")
    if stage == "ingestion":
        if table not in SOURCE_TABLES:
            raise QuarantineError(f"{key!r} is not a raw batch of a totesys table")
        return CheckpointStore(store).rewind_to_recapture(table, key)
    return ProcessingStateStore(store).rewind_to_reprocess(key)


def _put_if_absent(store: ObjectStore, key: str, data: bytes) -> None:
    try:
        store.put_new_bytes(key, data)
    except ObjectExistsError:
        pass  # a re-run after a crash finds its own earlier copy


def quarantine_object(store: ObjectStore, key: str, stage: str, reason: str, force: bool = False) -> QuarantineRecord:
    """Move `key` (in the `stage` bucket: "ingestion" or "processed") to `_quarantine/` and rewind its
    owner. A readable object is refused unless `force`: quarantining a good batch costs a recapture."""
    if stage not in ("ingestion", "processed"):
        raise QuarantineError(f"stage must be 'ingestion' or 'processed', not {stage!r}")
    data = _object_bytes(store, key)
    error = read_error(data)
    if error is None and not force:
        raise QuarantineError(f"{key!r} in {store.url} reads fine; pass force to quarantine it anyway")
    target = QUARANTINE_PREFIX + key
    _put_if_absent(store, target, data)
    recapture = _rewind_owner(store, key, stage)
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
    _delete_exactly(store, key)
    return record


def _delete_exactly(store: ObjectStore, key: str) -> None:
    listed = [o.key for o in store.list_objects(key)]
    if listed != [key]:  # batch keys are never prefixes of one another; refuse if that ever changes
        raise QuarantineError(f"refusing to delete {key!r}: it prefixes other objects {listed}")
    store.delete_prefix(key)


def quarantined(store: ObjectStore) -> list[dict]:
    """The records of every object quarantined in this bucket, oldest key first."""
    records = []
    for info in store.list_objects(QUARANTINE_PREFIX):
        if info.key.endswith(".json"):
            records.append(json.loads(store.get_bytes(info.key)))
    return records
