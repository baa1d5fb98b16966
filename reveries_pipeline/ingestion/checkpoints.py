"""Per-table change-capture checkpoints, kept in the ingestion bucket under `_state/`.

A checkpoint holds the high-water mark of `last_updated` and the (primary key, last_updated) pairs
already captured inside the lookback window below it. The next poll re-reads the window (to catch
rows that committed late) and drops the pairs it has already emitted (so the overlap adds no
duplicates). It is written only after the batch object is durably stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from reveries_pipeline.resources.object_store import STATE_PREFIX, ObjectStore

CHECKPOINT_PREFIX = f"{STATE_PREFIX}ingestion/checkpoints/"
TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def _ts(value: datetime) -> str:
    return value.strftime(TS_FORMAT)[:-3]  # milliseconds, as timestamp(3) has them


@dataclass
class Checkpoint:
    table: str
    high_water_mark: datetime | None = None
    # (pk, last_updated) pairs captured at or after high_water_mark - lookback
    window: list[tuple[int, datetime]] = field(default_factory=list)
    last_batch_key: str | None = None
    batches: int = 0
    rows: int = 0

    def lower_bound(self, lookback: timedelta) -> datetime | None:
        return None if self.high_water_mark is None else self.high_water_mark - lookback

    def window_frame(self, pk: str) -> pl.DataFrame:
        return pl.DataFrame(
            {pk: [p for p, _ in self.window], "last_updated": [t for _, t in self.window]},
            schema={pk: pl.Int64, "last_updated": pl.Datetime("ms")},
        )

    def describe(self) -> str:
        return "none (first run: full snapshot)" if self.high_water_mark is None else _ts(self.high_water_mark)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "table": self.table,
                "high_water_mark": None if self.high_water_mark is None else _ts(self.high_water_mark),
                "window": [[pk, _ts(ts)] for pk, ts in self.window],
                "last_batch_key": self.last_batch_key,
                "batches": self.batches,
                "rows": self.rows,
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Checkpoint:
        doc = json.loads(data)
        parse = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f")  # noqa: E731
        return cls(
            table=doc["table"],
            high_water_mark=None if doc["high_water_mark"] is None else parse(doc["high_water_mark"]),
            window=[(int(pk), parse(ts)) for pk, ts in doc["window"]],
            last_batch_key=doc.get("last_batch_key"),
            batches=doc.get("batches", 0),
            rows=doc.get("rows", 0),
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
        """Forget a table's checkpoint: its next capture is a full snapshot (runbook: re-snapshot a table)."""
        self.save(Checkpoint(table))
