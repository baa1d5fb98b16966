"""Change rows written to one spool file per table (ingestion/spool.py's SpoolFile, as poll writes),
in the order they arrive, a chunk at a time; and the slot range a read covered."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from reveries_pipeline.ingestion.logical.columns import (
    CHANGE_SEQ,
    COMMIT_LSN,
    COMMIT_TIME,
    OP,
    Op,
    change_schema,
)
from reveries_pipeline.ingestion.logical.lsn import lsn_text
from reveries_pipeline.ingestion.source_schema import UNREPRESENTABLE, SourceTable
from reveries_pipeline.ingestion.spool import SpoolFile


@dataclass(frozen=True)
class SlotRead:
    """What a snapshot or a change read covered: the slot range, and the spool file of each table with
    at least one row, rows in change order. Store them, then confirm `upto_lsn` (see slot.confirm):
    until then the slot replays the same changes."""

    tables: Mapping[str, SpoolFile]
    start_lsn: int  # the slot's confirmed position when the read began
    upto_lsn: int
    transactions: int = 0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    @property
    def upto_lsn_text(self) -> str:
        return lsn_text(self.upto_lsn)


@dataclass
class _Buffer:
    """Rows of one table not yet written, column by column, in front of its spool file."""

    file: SpoolFile
    source_columns: list[str]
    columns: dict[str, list] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.columns = {name: [] for name in self.file.schema.names}

    @property
    def buffered(self) -> int:
        return len(self.columns[OP])

    def flush(self) -> None:
        if not self.buffered:
            return
        schema = self.file.schema
        arrays = [pa.array(self.columns[f.name], type=f.type) for f in schema]
        self.file.write_arrow(pa.Table.from_arrays(arrays, schema=schema))
        self.columns = {name: [] for name in schema.names}


class ChangeSpool:
    """Buffers at most `chunk_rows` rows per table before writing them as a row group.

    Use it as a context manager; `tables()` is complete once the block has exited.
    """

    def __init__(self, directory: Path, chunk_rows: int) -> None:
        self.directory, self.chunk_rows = Path(directory), chunk_rows
        self._buffers: dict[str, _Buffer] = {}

    def add(
        self,
        table: SourceTable,
        values: Mapping[str, object],
        op: Op,
        lsn: int,
        time_us: int,
        seq: int,
        unrepresentable: Mapping[str, str] | None = None,
    ) -> None:
        """One change row: `values` by source column name (absent ones are null); `unrepresentable`:
        {column: source text} of values with no exact Arrow value (left null in their column)."""
        buffer = self._buffers.get(table.name)
        if buffer is None:
            spool = SpoolFile(self.directory / f"{table.name}.parquet", change_schema(table))
            buffer = self._buffers[table.name] = _Buffer(spool, [c.name for c in table.source_columns])
        columns = buffer.columns
        for column in buffer.source_columns:
            columns[column].append(values.get(column))
        columns[UNREPRESENTABLE].append(json.dumps(dict(unrepresentable)) if unrepresentable else None)
        for name, value in ((OP, op.value), (COMMIT_LSN, lsn), (COMMIT_TIME, time_us), (CHANGE_SEQ, seq)):
            columns[name].append(value)
        if buffer.buffered >= self.chunk_rows:
            buffer.flush()

    def tables(self) -> dict[str, SpoolFile]:
        return {name: b.file for name, b in self._buffers.items() if b.file.rows}

    def close(self) -> None:
        for buffer in self._buffers.values():
            buffer.flush()
            buffer.file.close()

    def __enter__(self) -> ChangeSpool:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


@contextmanager
def spooling(target: ChangeSpool | Path | str, chunk_rows: int) -> Iterator[ChangeSpool]:
    """`target` if it is a spool (its owner closes it: a snapshot and a change read then share one file
    per table), else a new spool in that directory, closed on exit."""
    if isinstance(target, ChangeSpool):
        yield target
        return
    with ChangeSpool(Path(target), chunk_rows) as spool:
        yield spool
