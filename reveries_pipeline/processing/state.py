"""Processing state in the processed bucket under `_state/processing/`.

- `checkpoint.json`: per raw table, the last raw batch key already processed;
- `current/<table>.parquet`: the latest row per key of the tables the dimensions join through;
- `keys/<dimension>.parquet`: every key each dimension has emitted (facts wait for these);
- `held/<fact>.parquet`: fact rows held back until a dimension key they reference is emitted;
- `passes.json`: the pass log (pass_log.py), so the raw batches behind any processed object can be
  reprocessed (rewind.py).

A pass loads the state, changes it only through ProcessingState's methods, and the asset saves it
after the pass's outputs are stored, checkpoint last: a crash before that reprocesses the same raw
batches, which the warehouse absorbs (dimension upserts, fact versions inserted once). Only the
documents whose content changed are written (state_documents.py), so a pass with nothing new
writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.catalog import DIMENSION_TABLES, FACT_TABLES, STAR_TABLES
from reveries_pipeline.processing.dim_date import without_days
from reveries_pipeline.processing.held import held_schema
from reveries_pipeline.processing.pass_log import PassRecord, passes_from_json, passes_to_json, with_pass
from reveries_pipeline.processing.state_documents import StateDocuments
from reveries_pipeline.processing.transforms import STATE_TABLES
from reveries_pipeline.resources.object_store import STATE_PREFIX, ObjectStore

PROCESSING_STATE_PREFIX = f"{STATE_PREFIX}processing/"
CHECKPOINT_KEY = f"{PROCESSING_STATE_PREFIX}checkpoint.json"
PASS_LOG_KEY = f"{PROCESSING_STATE_PREFIX}passes.json"


@dataclass
class ProcessingState:
    """The state a pass reads and leaves for the next; its methods are the only ways it changes."""

    checkpoint: dict[str, str] = field(default_factory=dict)
    current: dict[str, pl.DataFrame] = field(default_factory=dict)
    dimension_keys: dict[str, pl.DataFrame] = field(default_factory=dict)
    held: dict[str, pl.DataFrame] = field(default_factory=dict)
    passes: list[PassRecord] = field(default_factory=list)  # oldest first

    def remember_keys(self, dim: str, emitted: pl.DataFrame) -> pl.Series:
        """Fold the keys a pass emitted for `dim` into the keys it emitted before; returns them all."""
        key = STAR_TABLES[dim].natural_id
        prior = self.dimension_keys.get(dim)
        if prior is not None and emitted.height == 0:
            # Nothing new (every idle pass, most dimensions of any pass): re-sorting every key ever
            # emitted would cost time and memory in proportion to the history (15.8 M transactions
            # at scale 1000), for the same document.
            return prior.get_column(key)
        merged = emitted.select(key) if prior is None else pl.concat([prior, emitted.select(key)])
        self.dimension_keys[dim] = merged.unique().sort(key)  # sorted: the same keys make the same document
        return self.dimension_keys[dim].get_column(key)

    def carry_forward(self, current: dict[str, pl.DataFrame], held: dict[str, pl.DataFrame]) -> None:
        """Keep what the next pass joins through (`current`) and the fact rows still held back."""
        self.current = current
        self.held = held

    def finish_pass(self, advanced: Mapping[str, str], record: PassRecord | None) -> None:
        """Move the checkpoint past the raw batches a pass read, and log the pass (None: it read none)."""
        if record is not None:
            self.passes = with_pass(self.passes, record)
        self.checkpoint = dict(advanced)

    def rewind(self, checkpoint: Mapping[str, str], forget_days: Sequence[Sequence[str]] | None) -> None:
        """Set the checkpoint back, and forget these dim_date days (None: every day) so they're
        emitted again by the next pass."""
        self.checkpoint = dict(checkpoint)
        if (known := self.dimension_keys.get("dim_date")) is not None:
            self.dimension_keys["dim_date"] = without_days(known, forget_days)


class ProcessingStateStore:
    def __init__(self, store: ObjectStore):
        self.store = store
        self._documents = StateDocuments(store)

    def load(self, state_tables=STATE_TABLES, dimensions=DIMENSION_TABLES, facts=FACT_TABLES) -> ProcessingState:
        """The saved state (of just these tables, dimensions and facts: a rewind needs only dim_date)."""
        checkpoint = self._documents.read_json(CHECKPOINT_KEY)
        state = ProcessingState(
            checkpoint=dict(checkpoint["last_raw_keys"]) if checkpoint else {},
            passes=passes_from_json(self._documents.read_json(PASS_LOG_KEY)),
        )
        for table in state_tables:
            if (frame := self._documents.read_frame(f"{PROCESSING_STATE_PREFIX}current/{table}.parquet")) is not None:
                state.current[table] = frame
        for dim in dimensions:
            if (frame := self._documents.read_frame(f"{PROCESSING_STATE_PREFIX}keys/{dim}.parquet")) is not None:
                state.dimension_keys[dim] = frame
        for fact in facts:
            frame = self._documents.read_frame(f"{PROCESSING_STATE_PREFIX}held/{fact}.parquet")
            state.held[fact] = frame if frame is not None else pl.DataFrame(schema=held_schema(fact))
        return state

    def save(self, state: ProcessingState) -> list[str]:
        """Write the documents that changed, the checkpoint last; returns the keys written."""
        frames = [
            *((f"current/{t}.parquet", f) for t, f in state.current.items()),
            *((f"keys/{d}.parquet", f) for d, f in state.dimension_keys.items()),
            *((f"held/{fact}.parquet", f) for fact, f in state.held.items()),
        ]
        documents = self._documents
        written = [key for name, f in frames if documents.write_frame(key := PROCESSING_STATE_PREFIX + name, f)]
        if documents.write_json(PASS_LOG_KEY, passes_to_json(state.passes), indent=None):
            written.append(PASS_LOG_KEY)
        # the checkpoint goes last: it is what marks the raw batches as done
        if documents.write_json(CHECKPOINT_KEY, {"last_raw_keys": state.checkpoint}):
            written.append(CHECKPOINT_KEY)
        return written

    def reset(self) -> int:
        """Forget all processing state (rebuild): the next pass reprocesses every raw batch."""
        return self._documents.delete_prefix(PROCESSING_STATE_PREFIX)
