"""Everything processing derives from the raw lake, all in the processed bucket: an object prefix per
star table, the rejects under `_rejects/`, and the processing state under `_state/processing/`.

Processing owns it, so emptying it happens here, once: a rebuild calls `reset_derived_state`, and so
does anything else that starts processing over.
"""

from __future__ import annotations

import polars as pl

from reveries_pipeline.catalog import PROCESSED_TABLE_NAMES
from reveries_pipeline.lake.parquet import write_new_parquet
from reveries_pipeline.processing.state import ProcessingStateStore
from reveries_pipeline.resources import ObjectStore

REJECTS_PREFIX = "_rejects"


def write_rejects(processed_lake: ObjectStore, rejects: pl.DataFrame) -> str | None:
    """Store a pass's rejects as a new `_rejects/` object; returns its key (None: there were none)."""
    if rejects.height == 0:
        return None
    key, _ = write_new_parquet(processed_lake, REJECTS_PREFIX, rejects)
    return key


def reset_derived_state(processed_lake: ObjectStore) -> dict[str, int]:
    """Empty what processing derived from the raw lake: the processed tables, `_rejects` and the
    processing state, so the next pass remodels every raw batch. Returns the objects deleted per
    prefix. (The warehouse isn't processing's: its stage empties it.)"""
    deleted = {
        prefix: processed_lake.delete_prefix(f"{prefix}/") for prefix in (*PROCESSED_TABLE_NAMES, REJECTS_PREFIX)
    }
    deleted["_state/processing"] = ProcessingStateStore(processed_lake).reset()
    return deleted
