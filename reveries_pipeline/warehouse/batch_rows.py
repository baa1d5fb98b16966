"""A processed batch's rows as the load reads them: a frame already in memory, or a lake object read
one row group at a time, so a table's load holds a row group, not the table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from reveries_pipeline.lake.parquet import ParquetBatch


class BatchRows(Protocol):
    key: str  # the processed batch key

    @property
    def height(self) -> int: ...

    @property
    def column_names(self) -> list[str]: ...

    def chunks(self, columns: Sequence[str]) -> Iterator[pl.DataFrame]:
        """The batch's rows in order, as frames of exactly `columns`; may be iterated again."""
        ...


@dataclass(frozen=True)
class FrameBatch:
    key: str
    frame: pl.DataFrame

    @property
    def height(self) -> int:
        return self.frame.height

    @property
    def column_names(self) -> list[str]:
        return self.frame.columns

    def chunks(self, columns: Sequence[str]) -> Iterator[pl.DataFrame]:
        yield self.frame.select(columns)


@dataclass(frozen=True)
class ObjectBatch:
    key: str
    parquet: ParquetBatch  # open for as long as the load reads it

    @property
    def height(self) -> int:
        return self.parquet.height

    @property
    def column_names(self) -> list[str]:
        return self.parquet.column_names

    def chunks(self, columns: Sequence[str]) -> Iterator[pl.DataFrame]:
        return self.parquet.row_groups(columns)


def rows_of(batches: Sequence[BatchRows], columns: Sequence[str]) -> Iterator[pl.DataFrame]:
    """Every batch's rows, batch after batch, as frames of `columns`."""
    for batch in batches:
        yield from batch.chunks(columns)
