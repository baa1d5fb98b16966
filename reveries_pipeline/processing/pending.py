"""The raw batches a processing pass will use: listed up front, read one table at a time.

A pass lists the raw batches after its checkpoint when it begins (so a batch written meanwhile waits
for the next pass), but reads a table's batches only when the transforms ask for that table
(`PendingRaw.changes`, a mapping that reads on access): the pass then holds one table's raw rows at a
time, not the whole change. Each batch is read with only the columns conform.py looks at (the star
columns, the change columns, the unrepresentable-value notes): a source column the star schema
doesn't read is never decoded. Each batch is conformed before a table's batches are combined.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES, SOURCE_TABLES
from reveries_pipeline.ingestion.source_schema import UNREPRESENTABLE
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.parquet import read_parquet_object
from reveries_pipeline.processing.conform import conform_raw_batch
from reveries_pipeline.processing.raw_schemas import CHANGE_COLUMNS
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline.resources.object_backends import ObjectInfo


def conformed_columns(table: str) -> list[str]:
    """The raw columns conform.py reads (those a batch has are read; it checks for the rest)."""
    return [*SOURCE_TABLES[table].star_columns, UNREPRESENTABLE, *CHANGE_COLUMNS]


def read_raw_batch(ingestion_lake: ObjectStore, table: str, key: str, size: int | None = None) -> pl.DataFrame:
    """One raw batch, conformed (conform.py). A failure names the bucket and the key: one over the
    bucket's read limits (ObjectOverLimitError, checked before its data is read) or unreadable."""
    frame = read_parquet_object(ingestion_lake, key, size, columns=conformed_columns(table))
    try:
        return conform_raw_batch(table, frame, key)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"raw batch {key!r} in {ingestion_lake.url} can't be conformed: {exc}") from exc


class RawChanges(Mapping[str, pl.DataFrame]):
    """Per table with pending batches: its batches, read and conformed when asked for (every time:
    nothing is kept, so a table's rows are freed once its reader lets go of them)."""

    def __init__(self, pending: PendingRaw):
        self._pending = pending

    def __getitem__(self, table: str) -> pl.DataFrame:
        objects = self._pending.objects[table]
        frames = [read_raw_batch(self._pending.ingestion_lake, table, o.key, o.size) for o in objects]
        combined = pl.concat(frames, how="vertical")
        self._pending.rows_read[table] = combined.height
        return combined

    def __iter__(self) -> Iterator[str]:
        return iter(self._pending.objects)

    def __len__(self) -> int:
        return len(self._pending.objects)


@dataclass
class PendingRaw:
    ingestion_lake: ObjectStore
    checkpoint_before: dict[str, str]
    objects: dict[str, list[ObjectInfo]] = field(default_factory=dict)  # per table, its batches in order
    advanced: dict[str, str] = field(default_factory=dict)  # the checkpoint once they're processed
    rows_read: dict[str, int] = field(default_factory=dict)  # per table, once its batches are read

    @property
    def changes(self) -> RawChanges:
        """Per table, its pending batches conformed, read on access (see the module docstring)."""
        return RawChanges(self)

    @property
    def keys_read(self) -> dict[str, list[str]]:
        return {table: [o.key for o in objects] for table, objects in self.objects.items()}

    @property
    def batches(self) -> int:
        return sum(len(objects) for objects in self.objects.values())

    @property
    def rows(self) -> int:
        """The raw rows read so far (every pending row, once the transforms have read every table)."""
        return sum(self.rows_read.values())

    def check_readable(self) -> None:
        """Read and conform every pending batch, one at a time, keeping none: raises as reading it
        for the pass would (a rebuild checks this before it deletes anything)."""
        for table, objects in self.objects.items():
            for o in objects:
                read_raw_batch(self.ingestion_lake, table, o.key, o.size)


def read_pending_raw(ingestion_lake: ObjectStore, checkpoint: dict[str, str]) -> PendingRaw:
    """Every raw batch after the checkpoint (all of them for an empty one), listed per table; their
    rows are read through `changes`. A batch over the read limits, or unreadable, fails the pass
    when it is read, naming it: processing never skips a raw batch."""
    pending = PendingRaw(ingestion_lake, checkpoint_before=dict(checkpoint), advanced=dict(checkpoint))
    for table in SOURCE_TABLE_NAMES:
        objects = new_batches(ingestion_lake, table, checkpoint.get(table))
        if objects:
            pending.objects[table] = objects
            pending.advanced[table] = objects[-1].key
    return pending
