"""The raw batches a processing pass will use: listed up front, read one table at a time.

A pass lists the raw batches after its checkpoint when it begins (so a batch written meanwhile waits
for the next pass), but reads a table's batches only when the transforms ask for that table
(`PendingRaw.changes`, a mapping that reads on access): the pass then holds one table's raw rows at a
time, not the whole change. Each batch is read with only the columns conform.py looks at (the star
columns, the change columns, the unrepresentable-value notes): a source column the star schema
doesn't read is never decoded. Each batch is conformed before a table's batches are combined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial

import polars as pl

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES, SOURCE_TABLES
from reveries_pipeline.ingestion.source_schema import UNREPRESENTABLE
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.parquet import ParquetBatch, opened_parquet_object, read_parquet_object
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
    return conformed_rows(ingestion_lake, table, key, frame)


def conformed_rows(ingestion_lake: ObjectStore, table: str, key: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows of the raw batch at `key` (all of them, or a row group's), conformed; a failure names it."""
    try:
        return conform_raw_batch(table, frame, key)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"raw batch {key!r} in {ingestion_lake.url} can't be conformed: {exc}") from exc


def conformed_row_groups(
    ingestion_lake: ObjectStore, table: str, key: str, batch: ParquetBatch, indexes: Iterable[int] | None = None
) -> Iterator[pl.DataFrame]:
    """The opened raw batch's row groups (those at `indexes`, or all), each read with only the columns
    conform.py reads and conformed: memory holds one row group at a time."""
    columns = [c for c in conformed_columns(table) if c in batch.column_names]
    for frame in batch.row_groups(columns, indexes):
        yield conformed_rows(ingestion_lake, table, key, frame)


class RawChanges(Mapping[str, pl.DataFrame]):
    """Per table, its pending rows read when asked for (every time: nothing is kept, so a table's rows
    are freed once its reader lets go of them). `readers` says how a table is read (default: every
    pending batch of it, each conformed, combined); each read adds to the pass's rows read."""

    def __init__(self, pending: PendingRaw, readers: Mapping[str, Callable[[], pl.DataFrame]] | None = None):
        self._pending = pending
        self._readers = readers if readers is not None else {t: partial(pending.read_table, t) for t in pending.objects}

    def __getitem__(self, table: str) -> pl.DataFrame:
        rows = self._readers[table]()
        self._pending.rows_read[table] = self._pending.rows_read.get(table, 0) + rows.height
        return rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._readers)

    def __len__(self) -> int:
        return len(self._readers)


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

    def read_table(self, table: str) -> pl.DataFrame:
        """Every pending batch of `table`, each conformed, combined in batch order."""
        frames = [read_raw_batch(self.ingestion_lake, table, o.key, o.size) for o in self.objects[table]]
        return pl.concat(frames, how="vertical")

    def check_readable(self) -> None:
        """Read and conform every pending batch, a row group at a time, keeping none: raises as reading
        it for the pass would (a rebuild checks this before it deletes anything)."""
        for table, objects in self.objects.items():
            for o in objects:
                with opened_parquet_object(self.ingestion_lake, o.key, o.size) as batch:
                    for _conformed in conformed_row_groups(self.ingestion_lake, table, o.key, batch):
                        pass


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
