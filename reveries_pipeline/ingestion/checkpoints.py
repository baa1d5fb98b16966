"""Per-table change-capture checkpoints, kept in the ingestion bucket under `_state/`.

A checkpoint holds the high-water mark of `last_updated` and the (primary key, last_updated) pairs
already captured inside the lookback window below it. The next poll re-reads the window (to catch
rows that committed late) and drops the pairs it has already emitted (so the overlap adds no
duplicates). It is written only after the batch object is durably stored (see ingestion/assets.py).

It also keeps the source schema of the last capture (to name the old type when a column drifts) and
the last HISTORY_LIMIT batches written, each with the range of `last_updated` it held, so a batch
set aside as corrupt can be recaptured from the source (`rewind_to_recapture`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import polars as pl

from reveries_pipeline.ingestion.logical.lsn import lsn_text
from reveries_pipeline.lake.object_names import is_batch_key
from reveries_pipeline.resources.object_store import STATE_PREFIX, ObjectStore

CHECKPOINT_PREFIX = f"{STATE_PREFIX}ingestion/checkpoints/"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
HISTORY_LIMIT = 500  # batches remembered per table: ~50 KB of JSON, days of 10-minute polls


def _ts(value: datetime) -> str:
    # TS_FORMAT, with the year always in four digits (strftime drops the zeros of year 1)
    text = value.isoformat(timespec="microseconds")
    # milliseconds, as timestamp(3) has them; microseconds only if a widened column carries them
    return text[:-3] if value.microsecond % 1000 == 0 else text


def _parse(text: str) -> datetime:
    return datetime.strptime(text, TS_FORMAT)


def _ts_or_none(value: datetime | None) -> str | None:
    return None if value is None else _ts(value)


def _parse_or_none(text: str | None) -> datetime | None:
    return None if text is None else _parse(text)


def window_start(mark: datetime | None, lookback: timedelta) -> datetime:
    """Where the window below `mark` starts (everything when there is no mark, or it is near year 1)."""
    if mark is None or mark - datetime.min <= lookback:
        return datetime.min
    return mark - lookback


@dataclass(frozen=True)
class BatchRecord:
    """A raw batch written for the table, and the range of `last_updated` of the rows it holds."""

    key: str
    low: datetime
    high: datetime

    def to_doc(self) -> dict:
        return {"key": self.key, "low": _ts(self.low), "high": _ts(self.high)}

    @classmethod
    def from_doc(cls, doc: dict) -> BatchRecord:
        return cls(doc["key"], _parse(doc["low"]), _parse(doc["high"]))


@dataclass
class Checkpoint:
    table: str
    high_water_mark: datetime | None = None
    # (pk, last_updated) pairs captured at or after high_water_mark - lookback; the time is None for a
    # last_updated with no exact value (infinity, BC), which every capture past it reads again
    window: list[tuple[int, datetime | None]] = field(default_factory=list)
    last_batch_key: str | None = None
    batches: int = 0
    rows: int = 0
    # column -> postgres type at the last capture (None: never recorded)
    source_schema: dict[str, str] | None = None
    history: list[BatchRecord] = field(default_factory=list)  # oldest first
    # logical mode: the slot position the table's batches reach; None: the next logical capture
    # snapshots the table (never captured that way, or reset to re-snapshot)
    slot_lsn: int | None = None

    def lower_bound(self, lookback: timedelta) -> datetime | None:
        return None if self.high_water_mark is None else window_start(self.high_water_mark, lookback)

    def without_future_mark(self, ceiling: datetime) -> tuple[Checkpoint, list[str]]:
        """This checkpoint with a mark no later than `ceiling` (the source clock plus skew), and what
        was put right. A mark past it was written before marks were capped. It goes back to the lowest
        time of the batch that took it past (every change made after that batch is later than it; rows
        captured since come again, and downstream absorbs them), else to the last mark a batch set, else
        to a full snapshot. The window keeps its pairs: the future-dated rows don't come again."""
        if self.high_water_mark is None or self.high_water_mark <= ceiling:
            return self, []
        took_it_past = [r.low for r in self.history if r.high > ceiling and r.low <= ceiling]
        sane = [r.high for r in self.history if r.high <= ceiling]
        mark = min(took_it_past) if took_it_past else max(sane) if sane else None
        after = replace(self, high_water_mark=mark)
        return after, [
            f"checkpoint mark {_ts(self.high_water_mark)} was past the source clock (+ skew, {_ts(ceiling)}); "
            f"moved back to {after.describe()}, so changes made since are captured"
        ]

    def window_frame(self, pk: str, time_unit: str = "ms") -> pl.DataFrame:
        return pl.DataFrame(
            {pk: [p for p, _ in self.window], "last_updated": [t for _, t in self.window]},
            schema={pk: pl.Int64, "last_updated": pl.Datetime(time_unit)},
        )

    def record_batch(self, key: str, low: datetime, high: datetime) -> None:
        self.history = [*self.history, BatchRecord(key, low, high)][-HISTORY_LIMIT:]

    def with_stored_batch(self, key: str, rows: int, low: datetime | None, high: datetime | None) -> Checkpoint:
        """This checkpoint once the batch at `key` is stored: new keys sort after it, and it is counted.
        (`low` and `high` are None when no row of the batch has a representable `last_updated`.)"""
        after = replace(self, last_batch_key=key, batches=self.batches + 1, rows=self.rows + rows)
        if low is not None and high is not None:
            after.record_batch(key, low, high)  # what a quarantine of this batch must recapture
        return after

    def describe(self) -> str:
        if self.slot_lsn is not None:
            return f"LSN {lsn_text(self.slot_lsn)}"
        return "none (first run: full snapshot)" if self.high_water_mark is None else _ts(self.high_water_mark)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "table": self.table,
                "high_water_mark": None if self.high_water_mark is None else _ts(self.high_water_mark),
                "window": [[pk, _ts_or_none(ts)] for pk, ts in self.window],
                "last_batch_key": self.last_batch_key,
                "batches": self.batches,
                "rows": self.rows,
                "source_schema": self.source_schema,
                "history": [r.to_doc() for r in self.history],
                "slot_lsn": self.slot_lsn,
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Checkpoint:
        doc = json.loads(data)
        return cls(
            table=doc["table"],
            high_water_mark=None if doc["high_water_mark"] is None else _parse(doc["high_water_mark"]),
            window=[(int(pk), _parse_or_none(ts)) for pk, ts in doc["window"]],
            last_batch_key=doc.get("last_batch_key"),
            batches=doc.get("batches", 0),
            rows=doc.get("rows", 0),
            # checkpoints written before these fields existed have neither
            source_schema=doc.get("source_schema"),
            history=[BatchRecord.from_doc(r) for r in doc.get("history", [])],
            slot_lsn=doc.get("slot_lsn"),
        )


class CheckpointStore:
    def __init__(self, store: ObjectStore):
        self.store = store

    @staticmethod
    def key(table: str) -> str:
        return f"{CHECKPOINT_PREFIX}{table}.json"

    def load(self, table: str) -> Checkpoint:
        data = self.store.get_bytes(self.key(table))
        return Checkpoint(table) if data is None else Checkpoint.from_json(data)

    def save(self, checkpoint: Checkpoint) -> None:
        self.store.put_state(self.key(checkpoint.table), checkpoint.to_json())

    def reset(self, table: str) -> None:
        """Forget a table's mark (and, in logical mode, its slot position): its next capture is a full
        snapshot in either mode (runbook: re-snapshot a table).

        The last batch key (so new keys still sort after every existing one), the recorded schema
        and the batch history are kept.
        """
        self.save(replace(self.load(table), high_water_mark=None, window=[], slot_lsn=None))

    def rewind_to_recapture(self, table: str, batch_key: str) -> str:
        """Make the next capture re-read every row `batch_key` held; returns what was done.

        The mark goes back to the lowest `last_updated` in that batch (never forward) and the window
        is cleared, so the rows are emitted again in a new batch. Rows captured since are emitted
        again too; downstream absorbs the duplicates. A batch older than the history (or unknown to
        it) falls back to a full re-snapshot.
        """
        if not is_batch_key(batch_key, table):
            raise ValueError(f"{batch_key!r} is not a raw batch key of table {table!r}")
        checkpoint = self.load(table)
        before = checkpoint.describe()
        record = next((r for r in checkpoint.history if r.key == batch_key), None)
        if checkpoint.slot_lsn is not None:
            # the slot has freed the changes once they were stored: only a snapshot reads them again
            self.reset(table)
            return (
                f"raw/{table}: {batch_key} was captured from the replication slot, which no longer holds those "
                f"changes; checkpoint reset from {before}: the next ingestion run re-snapshots the whole table"
            )
        if record is None:
            self.reset(table)
            oldest = checkpoint.history[0].key if checkpoint.history else None
            why = (
                f"it is older than the batch history (oldest kept: {oldest})"
                if oldest and batch_key < oldest
                else "it is not in the batch history"
            )
            return (
                f"raw/{table}: {batch_key} can't be located by its rows ({why}); checkpoint reset from "
                f"{before}: the next ingestion run re-snapshots the whole table"
            )
        # never forward; with no mark a full snapshot is already pending, and it covers the batch
        mark = None if checkpoint.high_water_mark is None else min(checkpoint.high_water_mark, record.low)
        self.save(replace(checkpoint, high_water_mark=mark, window=[]))
        after = replace(checkpoint, high_water_mark=mark).describe()
        return (
            f"raw/{table}: {batch_key} held rows last updated {_ts(record.low)} to {_ts(record.high)}; "
            f"checkpoint rewound from {before} to {after}: the next ingestion run captures them again "
            "(with rows already captured since, which downstream absorbs as duplicates)"
        )
