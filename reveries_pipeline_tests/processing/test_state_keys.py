"""The keys each dimension has emitted: folded in by every pass, rebuilt only when the pass adds some."""

from __future__ import annotations

import polars as pl

from reveries_pipeline.processing.state import ProcessingState


def _keys(*ids: int) -> pl.DataFrame:
    return pl.DataFrame({"transaction_id": list(ids)}, schema={"transaction_id": pl.Int32})


def test_new_keys_are_folded_in_once_and_sorted():
    state = ProcessingState()
    state.remember_keys("dim_transaction", _keys(3, 1))
    assert state.remember_keys("dim_transaction", _keys(2, 3)).to_list() == [1, 2, 3]


def test_a_pass_that_emits_nothing_leaves_the_key_set_as_it_is_without_rebuilding_it():
    state = ProcessingState()
    state.remember_keys("dim_transaction", _keys(5, 4))
    before = state.dimension_keys["dim_transaction"]
    known = state.remember_keys("dim_transaction", _keys())
    assert known.to_list() == [4, 5]
    assert state.dimension_keys["dim_transaction"] is before  # not re-concatenated, re-deduplicated, re-sorted
