"""The pass log: what each recent processing pass read and wrote, so its output can be recreated.

Each pass that read raw batches is logged (`PassRecord`): when, the raw checkpoint before it, where
rows it released from holding were first read, the processed objects it wrote, and the dim_date
days it emitted. The log keeps the last PASS_LOG_LIMIT passes, oldest first, in `passes.json`;
rewind.py reads it to reprocess the raw batches behind a quarantined processed object.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

PASS_LOG_LIMIT = 500


@dataclass(frozen=True)
class PassRecord:
    at: str  # ISO 8601, UTC, to the millisecond
    checkpoint_before: Mapping[str, str]
    written: tuple[str, ...]
    # per raw table: where held rows this pass released were first read from (None: its first batch)
    released_from: Mapping[str, str | None] = field(default_factory=dict)
    dim_date: tuple[tuple[str, str], ...] = ()  # [first, last] ISO day ranges the pass emitted

    @classmethod
    def now(
        cls,
        checkpoint_before: Mapping[str, str],
        written: Iterable[str],
        released_from: Mapping[str, str | None],
        dim_date: Iterable[Sequence[str]],
    ) -> PassRecord:
        at = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
        return cls(at, dict(checkpoint_before), tuple(written), dict(released_from), _day_ranges(dim_date))

    @classmethod
    def from_json(cls, entry: Mapping) -> PassRecord:
        # Passes logged before released_from and dim_date were recorded have neither.
        return cls(
            at=entry["at"],
            checkpoint_before=dict(entry["checkpoint_before"]),
            written=tuple(entry["written"]),
            released_from=dict(entry.get("released_from", {})),
            dim_date=_day_ranges(entry.get("dim_date", [])),
        )

    def to_json(self) -> dict:
        return {
            "at": self.at,
            "checkpoint_before": dict(self.checkpoint_before),
            "released_from": dict(self.released_from),
            "written": list(self.written),
            "dim_date": [list(days) for days in self.dim_date],
        }


def _day_ranges(ranges: Iterable[Sequence[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((first, last) for first, last in ranges)


def passes_from_json(document: Mapping | None) -> list[PassRecord]:
    return [PassRecord.from_json(entry) for entry in document["passes"]] if document else []


def passes_to_json(passes: Iterable[PassRecord]) -> dict:
    return {"passes": [record.to_json() for record in passes]}


def with_pass(passes: Sequence[PassRecord], record: PassRecord) -> list[PassRecord]:
    """The log with `record` appended, keeping the last PASS_LOG_LIMIT passes."""
    return [*passes, record][-PASS_LOG_LIMIT:]


def last_written(passes: Iterable[PassRecord]) -> dict[str, str]:
    """Per processed table, the newest key the logged passes wrote."""
    last: dict[str, str] = {}
    for record in passes:
        for key in record.written:
            last[key.split("/", 1)[0]] = key
    return last


def writer_of(passes: Sequence[PassRecord], processed_key: str) -> PassRecord | None:
    """The latest logged pass that wrote `processed_key` (None: not in the log)."""
    return next((record for record in reversed(passes) if processed_key in record.written), None)
