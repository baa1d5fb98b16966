"""Processing state in the processed bucket under `_state/processing/`.

- `checkpoint.json`: per raw table, the last raw batch key already processed;
- `current/<table>.parquet`: the latest row per key of the tables the dimensions join through;
- `keys/<dimension>.parquet`: every key each dimension has emitted (facts wait for these);
- `held/<fact>.parquet`: fact rows held back until a dimension key they reference is emitted;
- `passes.json`: the last PASS_LOG_LIMIT passes that read raw batches: when, the raw checkpoint
  before the pass and the processed keys it wrote, so the raw batches behind any processed object
  can be reprocessed (`rewind_to_reprocess`).

It is committed after the pass's outputs are stored, checkpoint last: a crash before that
reprocesses the same raw batches, which the warehouse absorbs (dimension upserts, fact versions
inserted once). Only the documents whose content changed are written, so a pass with nothing new
writes nothing.
"""

from __future__ import annotations

import datetime
import io
import json
from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.catalog import DIMENSION_TABLES, FACT_TABLES
from reveries_pipeline.lake.parquet import read_state_frame
from reveries_pipeline.processing.held import held_schema
from reveries_pipeline.processing.transforms import STATE_TABLES
from reveries_pipeline.resources.object_store import STATE_PREFIX, ObjectStore

PROCESSING_STATE_PREFIX = f"{STATE_PREFIX}processing/"
CHECKPOINT_KEY = f"{PROCESSING_STATE_PREFIX}checkpoint.json"
PASS_LOG_KEY = f"{PROCESSING_STATE_PREFIX}passes.json"
DIM_DATE_KEYS = f"{PROCESSING_STATE_PREFIX}keys/dim_date.parquet"
PASS_LOG_LIMIT = 500


@dataclass
class ProcessingState:
    checkpoint: dict[str, str] = field(default_factory=dict)
    current: dict[str, pl.DataFrame] = field(default_factory=dict)
    dimension_keys: dict[str, pl.DataFrame] = field(default_factory=dict)
    held: dict[str, pl.DataFrame] = field(default_factory=dict)
    # oldest first: {"at", "checkpoint_before", "released_from", "written", "dim_date"}
    passes: list[dict] = field(default_factory=list)

    def record_pass(
        self,
        checkpoint_before: dict[str, str],
        written: list[str],
        released_from: dict[str, str | None],
        dim_date: list[list[str]],
    ) -> None:
        """Append a pass to the bounded log. `released_from`: per raw table, where held rows this
        pass released were first read from; `dim_date`: the [first, last] day ranges it emitted."""
        entry = {
            "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "checkpoint_before": dict(checkpoint_before),
            "released_from": dict(released_from),
            "written": list(written),
            "dim_date": dim_date,
        }
        self.passes = [*self.passes, entry][-PASS_LOG_LIMIT:]


def _frame_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return buffer.getvalue()


def _earliest(a: str | None, b: str | None) -> str | None:
    """The earlier of two raw checkpoints of one table, where None means "from the start"."""
    if a is None or b is None:
        return None
    return min(a, b)


def rewind_point(entry: dict) -> dict[str, str | None]:
    """Per raw table, the checkpoint from which reprocessing recreates everything a pass wrote
    (a table absent or None: from its first batch)."""
    point: dict[str, str | None] = dict(entry["checkpoint_before"])
    for table, since in entry.get("released_from", {}).items():
        point[table] = _earliest(point.get(table), since)
    return point


def _describe_rewind(
    processed_key: str, entry: dict, checkpoint: dict[str, str], rewound: dict[str, str | None]
) -> str:
    changed = sorted(t for t in checkpoint if rewound[t] != checkpoint[t])
    lines = [f"{processed_key} was written by the processing pass at {entry['at']}."]
    if changed:
        moves = ", ".join(f"{t} to {rewound[t] or 'its first batch'}" for t in changed)
        lines.append(f"Rewound the processing checkpoint ({moves}).")
    else:
        lines.append("The processing checkpoint is already at or before where that pass started.")
    if days := entry.get("dim_date"):
        lines.append(f"dim_date will emit {', '.join(f'{lo}..{hi}' for lo, hi in days)} again.")
    lines.append("The next processing pass reprocesses the raw batches that produced it.")
    return " ".join(lines)


class ProcessingStateStore:
    def __init__(self, store: ObjectStore):
        self.store = store
        # what each document held when last read or written here: unchanged documents aren't rewritten
        self._stored: dict[str, object] = {}

    # ---- documents

    def _get_frame(self, key: str) -> pl.DataFrame | None:
        frame = read_state_frame(self.store, key)  # within the bucket's read limits
        if frame is not None:
            self._stored[key] = frame
        return frame

    def _put_frame(self, key: str, frame: pl.DataFrame) -> bool:
        stored = self._stored.get(key)
        if stored is None and frame.height == 0:
            return False  # an absent document reads as empty
        if isinstance(stored, pl.DataFrame) and stored.schema == frame.schema and stored.equals(frame):
            return False
        self.store.put_state(key, _frame_bytes(frame))
        self._stored[key] = frame
        return True

    def _get_json(self, key: str) -> object | None:
        data = self.store.get_bytes(key)  # refused, naming it, if over the state-document limit
        value = None if data is None else json.loads(data)
        if value is not None:
            self._stored[key] = value
        return value

    def _put_json(self, key: str, value: object, indent: int | None = 1) -> bool:
        if self._stored.get(key) == value:
            return False
        self.store.put_state(key, json.dumps(value, indent=indent).encode())
        self._stored[key] = value
        return True

    # ---- the state of a pass

    def load(self, state_tables=STATE_TABLES, dimensions=DIMENSION_TABLES, facts=FACT_TABLES) -> ProcessingState:
        checkpoint = self._get_json(CHECKPOINT_KEY)
        passes = self._get_json(PASS_LOG_KEY)
        state = ProcessingState(
            checkpoint=dict(checkpoint["last_raw_keys"]) if checkpoint else {},
            passes=list(passes["passes"]) if passes else [],
        )
        for table in state_tables:
            if (frame := self._get_frame(f"{PROCESSING_STATE_PREFIX}current/{table}.parquet")) is not None:
                state.current[table] = frame
        for dim in dimensions:
            if (frame := self._get_frame(f"{PROCESSING_STATE_PREFIX}keys/{dim}.parquet")) is not None:
                state.dimension_keys[dim] = frame
        for fact in facts:
            frame = self._get_frame(f"{PROCESSING_STATE_PREFIX}held/{fact}.parquet")
            state.held[fact] = frame if frame is not None else pl.DataFrame(schema=held_schema(fact))
        return state

    def save(self, state: ProcessingState) -> list[str]:
        """Write the documents that changed, the checkpoint last; returns the keys written."""
        documents = [
            *((f"current/{t}.parquet", f) for t, f in state.current.items()),
            *((f"keys/{d}.parquet", f) for d, f in state.dimension_keys.items()),
            *((f"held/{fact}.parquet", f) for fact, f in state.held.items()),
        ]
        written = [key for name, frame in documents if self._put_frame(key := PROCESSING_STATE_PREFIX + name, frame)]
        if self._put_json(PASS_LOG_KEY, {"passes": state.passes}, indent=None):
            written.append(PASS_LOG_KEY)
        # the checkpoint goes last: it is what marks the raw batches as done
        if self._put_json(CHECKPOINT_KEY, {"last_raw_keys": state.checkpoint}):
            written.append(CHECKPOINT_KEY)
        return written

    def reset(self) -> int:
        """Forget all processing state (rebuild): the next pass reprocesses every raw batch."""
        self._stored.clear()
        return self.store.delete_prefix(PROCESSING_STATE_PREFIX)

    # ---- quarantine

    def rewind_to_reprocess(self, processed_key: str) -> str:
        """Rewind the checkpoint so the next pass recreates what `processed_key` held; say how.

        The checkpoint of each raw table becomes the earlier of its current value and where the pass
        that wrote the object started (including where rows it released from holding were first
        read), and the days that pass added to dim_date are forgotten so they're emitted again. A key
        that isn't in the pass log resets the checkpoint: every raw batch is reprocessed (correct,
        slower). Reprocessing is safe: dimensions are upserts, fact versions go in once. Run it while
        no processing pass is running (the derived-writer runs are one at a time)."""
        checkpoint = (self._get_json(CHECKPOINT_KEY) or {"last_raw_keys": {}})["last_raw_keys"]
        passes = (self._get_json(PASS_LOG_KEY) or {"passes": []})["passes"]
        entry = next((p for p in reversed(passes) if processed_key in p["written"]), None)
        if entry is None:
            self._forget_dates(None)
            self._put_json(CHECKPOINT_KEY, {"last_raw_keys": {}})
            return (
                f"{processed_key} is not in the processing pass log (its last {len(passes)} passes): the "
                "processing checkpoint was reset, so the next pass reprocesses every raw batch (correct, but slower)"
            )
        point = rewind_point(entry)
        rewound = {t: _earliest(key, point[t]) if t in point else None for t, key in checkpoint.items()}
        self._forget_dates(entry.get("dim_date", []))
        self._put_json(CHECKPOINT_KEY, {"last_raw_keys": {t: k for t, k in rewound.items() if k is not None}})
        return _describe_rewind(processed_key, entry, checkpoint, rewound)

    def _forget_dates(self, ranges: list[list[str]] | None) -> None:
        """Drop days from keys/dim_date so the next pass emits them again (None: every day)."""
        known = self._get_frame(DIM_DATE_KEYS)
        if known is None or not known.height:
            return
        if ranges is None:
            self._put_frame(DIM_DATE_KEYS, known.clear())
            return
        day = pl.col("date_id")
        inside = pl.any_horizontal(
            [day.is_between(datetime.date.fromisoformat(lo), datetime.date.fromisoformat(hi)) for lo, hi in ranges]
            or [pl.lit(False)]
        )
        self._put_frame(DIM_DATE_KEYS, known.filter(~inside))
