"""Settling a pass: the facts it can emit, the dim_date days they need, and what the state learns.

A fact row that references a dimension key no pass has emitted yet is held back (held.py); dim_date
is stretched over every fact date the pass saw, held rows included, so releasing them later never
needs a new day. The state is updated here but saved by the asset, after the outputs are stored.
"""

from __future__ import annotations

import polars as pl

from reveries_pipeline.catalog import DIMENSION_TABLES, FACT_TABLES, STAR_TABLES
from reveries_pipeline.processing.dim_date import dim_date_for_facts, extend_dim_date
from reveries_pipeline.processing.held import HoldBack, considered_facts, hold_back
from reveries_pipeline.processing.state import ProcessingState
from reveries_pipeline.processing.transforms import ProcessingResult


def _merged_keys(prior: pl.DataFrame | None, emitted: pl.DataFrame, key: str) -> pl.DataFrame:
    merged = emitted if prior is None else pl.concat([prior, emitted])
    return merged.unique().sort(key)  # sorted: the same keys always make the same document


def _record_dimension_keys(state: ProcessingState, tables: dict[str, pl.DataFrame]) -> dict[str, pl.Series]:
    """Fold the keys this pass emitted into the state's keys of every non-date dimension; returns
    every key each has ever emitted."""
    known: dict[str, pl.Series] = {}
    for dim in DIMENSION_TABLES:
        if dim == "dim_date":
            continue
        key = STAR_TABLES[dim].natural_id
        state.dimension_keys[dim] = _merged_keys(state.dimension_keys.get(dim), tables[dim].select(key), key)
        known[dim] = state.dimension_keys[dim].get_column(key)
    return known


def settle_pass(result: ProcessingResult, state: ProcessingState, checkpoint_before: dict[str, str]) -> HoldBack:
    """Hold back the facts whose dimension keys aren't emitted yet (releasing those now resolved),
    extend dim_date over every fact date seen, and fold the pass into the state (not saved here)."""
    known = _record_dimension_keys(state, result.tables)
    held = hold_back({f: result.tables[f] for f in FACT_TABLES}, state.held, known, checkpoint_before)
    result.tables.update(held.emitted)
    known_dates = state.dimension_keys.get("dim_date")
    dim_date = extend_dim_date(dim_date_for_facts(considered_facts(held)), known_dates)
    result.tables["dim_date"] = dim_date
    state.dimension_keys["dim_date"] = _merged_keys(known_dates, dim_date.select("date_id"), "date_id")
    state.held = held.held
    state.current = result.new_state
    return held
