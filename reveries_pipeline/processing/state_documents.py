"""The processing state's documents in the processed bucket, each rewritten only when it changed.

A pass loads every document and saves them all back; remembering what each held when last read or
written here lets an unchanged one be skipped, so a pass with nothing new writes nothing.
"""

from __future__ import annotations

import io
import json

import polars as pl

from reveries_pipeline.lake.parquet import read_state_frame
from reveries_pipeline.resources.object_store import ObjectStore


def _frame_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return buffer.getvalue()


class StateDocuments:
    """Parquet and JSON state documents under one bucket; a write returns whether it wrote."""

    def __init__(self, store: ObjectStore):
        self.store = store
        # what each document held when last read or written here: unchanged documents aren't rewritten
        self._stored: dict[str, object] = {}

    def read_frame(self, key: str) -> pl.DataFrame | None:
        frame = read_state_frame(self.store, key)  # within the bucket's read limits
        if frame is not None:
            self._stored[key] = frame
        return frame

    def write_frame(self, key: str, frame: pl.DataFrame) -> bool:
        stored = self._stored.get(key)
        if stored is None and frame.height == 0:
            return False  # an absent document reads as empty
        if isinstance(stored, pl.DataFrame) and stored.schema == frame.schema and stored.equals(frame):
            return False
        self.store.put_state(key, _frame_bytes(frame))
        self._stored[key] = frame
        return True

    def read_json(self, key: str) -> object | None:
        data = self.store.get_bytes(key)  # refused, naming it, if over the state-document limit
        value = None if data is None else json.loads(data)
        if value is not None:
            self._stored[key] = value
        return value

    def write_json(self, key: str, value: object, indent: int | None = 1) -> bool:
        if self._stored.get(key) == value:
            return False
        self.store.put_state(key, json.dumps(value, indent=indent).encode())
        self._stored[key] = value
        return True

    def delete_prefix(self, prefix: str) -> int:
        """Delete every document under `prefix` (and forget what any document held)."""
        self._stored.clear()
        return self.store.delete_prefix(prefix)
