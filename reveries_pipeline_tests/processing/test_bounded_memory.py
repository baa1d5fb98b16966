"""A pass holds one raw table at a time: the transforms ask for each table's raw rows once and let go
of them before asking for the next (the asset's mapping reads a table only when asked: pending.py).
Asserted through references, not timings or RSS: a raw frame the transforms still hold when the next
table is read is what would make memory grow with the size of the whole change."""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping

import polars as pl

from reveries_pipeline.processing.transforms import transform
from reveries_pipeline_tests.processing.raw_rows import base_state, full_changes


class HandedOut(Mapping[str, pl.DataFrame]):
    """Raw changes handed out as fresh frames, one per request, each remembered only weakly; records
    which earlier tables' frames were still alive when each table was asked for."""

    def __init__(self, changes: dict[str, pl.DataFrame]):
        self._changes = changes
        self._handed: list[tuple[str, weakref.ref]] = []
        self.alive_when_read: dict[str, list[str]] = {}

    def __getitem__(self, table: str) -> pl.DataFrame:
        self.alive_when_read[table] = [t for t, ref in self._handed if ref() is not None]
        frame = self._changes[table].clone()
        self._handed.append((table, weakref.ref(frame)))
        return frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._changes)

    def __len__(self) -> int:
        return len(self._changes)


def test_the_transforms_let_go_of_each_raw_table_before_reading_the_next():
    changes = full_changes()
    handed = HandedOut(changes)
    result = transform(handed, base_state())

    assert list(handed.alive_when_read) == list(changes)  # every table asked for, once
    assert {table: alive for table, alive in handed.alive_when_read.items() if alive} == {}
    expected = transform(changes, base_state())  # the same pass from frames held throughout
    for table, frame in expected.tables.items():
        assert result.tables[table].equals(frame), table
    assert result.rejects.equals(expected.rejects)
    assert result.deleted_rows.equals(expected.deleted_rows)
