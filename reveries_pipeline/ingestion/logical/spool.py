"""Change rows written to one parquet file per table, in the order they arrive, a chunk at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reveries_pipeline.ingestion.logical.columns import (
    CAPTURE_FIELDS,
    CHANGE_SEQ,
    COMMIT_LSN,
    COMMIT_TIME,
    OP,
    Op,
    change_schema,
)
from reveries_pipeline.ingestion.logical.lsn import lsn_text
from reveries_pipeline.ingestion.source_schema import SourceTable


@dataclass(frozen=True)
class SpooledTable:
    path: Path
    rows: int


@dataclass(frozen=True)
class LogicalCapture:
    """What a snapshot or a change read left in the spool directory.

    `tables` has a file for each table with at least one row, rows in change order. Store them, then
    confirm `upto_lsn` (see slot.confirm): until then the slot replays the same changes.
    """

    tables: Mapping[str, SpooledTable]
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
class _TableSpool:
    path: Path
    schema: pa.Schema
    columns: dict[str, list] = field(default_factory=dict)
    writer: pq.ParquetWriter | None = None
    rows: int = 0

    def __post_init__(self) -> None:
        self.columns = {name: [] for name in self.schema.names}
        self.source_columns = self.schema.names[: -len(CAPTURE_FIELDS)]

    @property
    def buffered(self) -> int:
        return len(self.columns[OP])

    def flush(self) -> None:
        if not self.buffered:
            return
        arrays = [pa.array(self.columns[f.name], type=f.type) for f in self.schema]
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.rows += self.buffered
        self.columns = {name: [] for name in self.schema.names}

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


class ChangeSpool:
    """Buffers at most `chunk_rows` rows per table before writing them as a row group.

    Use it as a context manager; `tables()` is complete once the block has exited.
    """

    def __init__(self, directory: Path, chunk_rows: int) -> None:
        self.directory, self.chunk_rows = Path(directory), chunk_rows
        self._spools: dict[str, _TableSpool] = {}

    def add(self, table: SourceTable, values: Mapping[str, object], op: Op, lsn: int, time_us: int, seq: int):
        """One change row: `values` by source column name (absent ones are null)."""
        spool = self._spools.get(table.name)
        if spool is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            spool = _TableSpool(self.directory / f"{table.name}.parquet", change_schema(table))
            self._spools[table.name] = spool
        columns = spool.columns
        for column in spool.source_columns:
            columns[column].append(values.get(column))
        for name, value in ((OP, op.value), (COMMIT_LSN, lsn), (COMMIT_TIME, time_us), (CHANGE_SEQ, seq)):
            columns[name].append(value)
        if spool.buffered >= self.chunk_rows:
            spool.flush()

    def tables(self) -> dict[str, SpooledTable]:
        return {name: SpooledTable(s.path, s.rows) for name, s in self._spools.items() if s.rows}

    def __enter__(self) -> ChangeSpool:
        return self

    def __exit__(self, *exc_info) -> None:
        for spool in self._spools.values():
            spool.close()
