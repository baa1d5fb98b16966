"""Processing state in the processed bucket under `_state/processing/`.

- `checkpoint.json`: per raw table, the last raw batch key already processed;
- `current/<table>.parquet`: the latest row per key of the tables the dimensions join through;
- `keys/<dimension>.parquet`: every key each dimension has emitted, for the foreign-key checks.

It is committed after the pass's outputs are stored: a crash before that reprocesses the same raw
batches, which the warehouse absorbs (dimension upserts, fact versions inserted once).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.resources.object_store import STATE_PREFIX, ObjectStore

PROCESSING_STATE_PREFIX = f"{STATE_PREFIX}processing/"


@dataclass
class ProcessingState:
    checkpoint: dict[str, str] = field(default_factory=dict)
    current: dict[str, pl.DataFrame] = field(default_factory=dict)
    dimension_keys: dict[str, pl.DataFrame] = field(default_factory=dict)


def _frame_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return buffer.getvalue()


class ProcessingStateStore:
    def __init__(self, store: ObjectStore):
        self.store = store

    def _get_frame(self, key: str) -> pl.DataFrame | None:
        data = self.store.get_bytes(key)
        return None if data is None else pl.read_parquet(io.BytesIO(data))

    def load(self, state_tables, dimensions) -> ProcessingState:
        raw = self.store.get_bytes(f"{PROCESSING_STATE_PREFIX}checkpoint.json")
        state = ProcessingState(checkpoint=json.loads(raw)["last_raw_keys"] if raw else {})
        for table in state_tables:
            frame = self._get_frame(f"{PROCESSING_STATE_PREFIX}current/{table}.parquet")
            if frame is not None:
                state.current[table] = frame
        for dim in dimensions:
            frame = self._get_frame(f"{PROCESSING_STATE_PREFIX}keys/{dim}.parquet")
            if frame is not None:
                state.dimension_keys[dim] = frame
        return state

    def save(self, state: ProcessingState) -> None:
        for table, frame in state.current.items():
            self.store.put_state(f"{PROCESSING_STATE_PREFIX}current/{table}.parquet", _frame_bytes(frame))
        for dim, frame in state.dimension_keys.items():
            self.store.put_state(f"{PROCESSING_STATE_PREFIX}keys/{dim}.parquet", _frame_bytes(frame))
        # the checkpoint goes last: it is what marks the raw batches as done
        doc = {"last_raw_keys": state.checkpoint}
        self.store.put_state(f"{PROCESSING_STATE_PREFIX}checkpoint.json", json.dumps(doc, indent=1).encode())

    def reset(self) -> int:
        """Forget all processing state (rebuild): the next pass reprocesses every raw batch."""
        return self.store.delete_prefix(PROCESSING_STATE_PREFIX)
