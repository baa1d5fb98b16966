"""Reading the raw batches a processing pass will use, each conformed before they're combined."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.parquet import read_parquet_object
from reveries_pipeline.processing.conform import conform_raw_batch
from reveries_pipeline.resources import ObjectStore


@dataclass
class PendingRaw:
    checkpoint_before: dict[str, str]
    changes: dict[str, pl.DataFrame] = field(default_factory=dict)  # per table, its batches conformed
    advanced: dict[str, str] = field(default_factory=dict)  # the checkpoint once they're processed
    keys_read: dict[str, list[str]] = field(default_factory=dict)

    @property
    def batches(self) -> int:
        return sum(len(keys) for keys in self.keys_read.values())

    @property
    def rows(self) -> int:
        return sum(frame.height for frame in self.changes.values())


def read_raw_batch(ingestion_lake: ObjectStore, table: str, key: str, size: int | None = None) -> pl.DataFrame:
    """One raw batch, conformed (conform.py). A failure names the bucket and the key: one over the
    bucket's read limits (ObjectOverLimitError, checked before its data is read) or unreadable."""
    frame = read_parquet_object(ingestion_lake, key, size)
    try:
        return conform_raw_batch(table, frame, key)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"raw batch {key!r} in {ingestion_lake.url} can't be conformed: {exc}") from exc


def read_pending_raw(ingestion_lake: ObjectStore, checkpoint: dict[str, str]) -> PendingRaw:
    """Every raw batch after the checkpoint (all of them for an empty one), read and conformed per
    table; nothing is returned unless every one of them could be read. A batch over the read limits
    fails the whole pass, naming it: processing never skips a raw batch."""
    pending = PendingRaw(checkpoint_before=dict(checkpoint), advanced=dict(checkpoint))
    for table in SOURCE_TABLE_NAMES:
        objects = new_batches(ingestion_lake, table, checkpoint.get(table))
        if not objects:
            continue
        frames = [read_raw_batch(ingestion_lake, table, o.key, o.size) for o in objects]
        pending.changes[table] = pl.concat(frames, how="vertical")
        pending.advanced[table] = objects[-1].key
        pending.keys_read[table] = [o.key for o in objects]
    return pending
