"""Recreating a processed object that was set aside (quarantined) before the warehouse loaded it.

The pass log (pass_log.py) knows which raw batches the pass that wrote it read, so the processing
checkpoint is set back to before them and the next pass reprocesses them. Reprocessing is safe:
dimensions are upserts, fact versions go in once. Run it while no processing pass is running (the
derived-writer runs are one at a time).
"""

from __future__ import annotations

from reveries_pipeline.processing.pass_log import PassRecord, writer_of
from reveries_pipeline.processing.state import ProcessingStateStore
from reveries_pipeline.resources.object_store import ObjectStore


def _earliest(a: str | None, b: str | None) -> str | None:
    """The earlier of two raw checkpoints of one table, where None means "from the start"."""
    if a is None or b is None:
        return None
    return min(a, b)


def rewind_point(record: PassRecord) -> dict[str, str | None]:
    """Per raw table, the checkpoint from which reprocessing recreates everything a pass wrote
    (a table absent or None: from its first batch)."""
    point: dict[str, str | None] = dict(record.checkpoint_before)
    for table, since in record.released_from.items():
        point[table] = _earliest(point.get(table), since)
    return point


def _describe_rewind(
    processed_key: str, record: PassRecord, checkpoint: dict[str, str], rewound: dict[str, str | None]
) -> str:
    changed = sorted(t for t in checkpoint if rewound[t] != checkpoint[t])
    lines = [f"{processed_key} was written by the processing pass at {record.at}."]
    if changed:
        moves = ", ".join(f"{t} to {rewound[t] or 'its first batch'}" for t in changed)
        lines.append(f"Rewound the processing checkpoint ({moves}).")
    else:
        lines.append("The processing checkpoint is already at or before where that pass started.")
    if record.dim_date:
        lines.append(f"dim_date will emit {', '.join(f'{lo}..{hi}' for lo, hi in record.dim_date)} again.")
    lines.append("The next processing pass reprocesses the raw batches that produced it.")
    return " ".join(lines)


def rewind_to_reprocess(processed_lake: ObjectStore, processed_key: str) -> str:
    """Rewind the checkpoint so the next pass recreates what `processed_key` held; say how.

    The checkpoint of each raw table becomes the earlier of its current value and where the pass
    that wrote the object started (including where rows it released from holding were first read),
    and the days that pass added to dim_date are forgotten so they're emitted again. A key that
    isn't in the pass log resets the checkpoint: every raw batch is reprocessed (correct, slower)."""
    store = ProcessingStateStore(processed_lake)
    state = store.load(state_tables=(), dimensions=("dim_date",), facts=())
    record = writer_of(state.passes, processed_key)
    if record is None:
        state.rewind({}, forget_days=None)
        store.save(state)
        return (
            f"{processed_key} is not in the processing pass log (its last {len(state.passes)} passes): the "
            "processing checkpoint was reset, so the next pass reprocesses every raw batch (correct, but slower)"
        )
    checkpoint = dict(state.checkpoint)
    point = rewind_point(record)
    rewound = {t: _earliest(key, point[t]) if t in point else None for t, key in checkpoint.items()}
    state.rewind({t: k for t, k in rewound.items() if k is not None}, forget_days=record.dim_date)
    store.save(state)
    return _describe_rewind(processed_key, record, checkpoint, rewound)
