"""Settling a pass: the facts it can emit, the dim_date days they need, and what the state learns.

A fact row that references a dimension key no pass has emitted yet is held back (held.py); dim_date
is stretched over every fact date the pass saw, held rows included, so releasing them later never
needs a new day. The state learns the pass here (through ProcessingState's methods) but is saved by
the asset, after the outputs are stored.
"""

from __future__ import annotations

import polars as pl

from reveries_pipeline.catalog import DIMENSION_TABLES, FACT_TABLES
from reveries_pipeline.processing.dim_date import dim_date_for_facts, extend_dim_date
from reveries_pipeline.processing.held import FACT_SOURCE, HoldBack, considered_facts, hold_back
from reveries_pipeline.processing.state import ProcessingState
from reveries_pipeline.processing.transforms import ProcessingResult


def _remember_dimension_keys(state: ProcessingState, tables: dict[str, pl.DataFrame]) -> dict[str, pl.Series]:
    """Fold the keys this pass emitted into the state's keys of every non-date dimension; returns
    every key each has ever emitted."""
    return {dim: state.remember_keys(dim, tables[dim]) for dim in DIMENSION_TABLES if dim != "dim_date"}


def settle_pass(result: ProcessingResult, state: ProcessingState, checkpoint_before: dict[str, str]) -> HoldBack:
    """Hold back the facts whose dimension keys aren't emitted yet (releasing those now resolved),
    extend dim_date over every fact date seen, and fold the pass into the state (not saved here)."""
    known = _remember_dimension_keys(state, result.tables)
    held = HoldBack(emitted={}, held={})
    order = list(result.tables)
    for fact in FACT_TABLES:  # one at a time, each handed over (popped): no fact is held twice
        since = checkpoint_before.get(FACT_SOURCE[fact])
        hold_back(held, fact, result.tables.pop(fact), state.held.get(fact), known, since)
    result.tables = {table: held.emitted.get(table, result.tables.get(table)) for table in order}
    dim_date = extend_dim_date(dim_date_for_facts(considered_facts(held)), state.dimension_keys.get("dim_date"))
    result.tables["dim_date"] = dim_date
    state.remember_keys("dim_date", dim_date)
    state.carry_forward(result.new_state, held.held)
    return held
