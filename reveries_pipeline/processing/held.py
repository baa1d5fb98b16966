"""Facts held back until their dimensions arrive.

A fact row that references a dimension key no pass has emitted (its staff member was rejected, or
its new counterparty is captured in a later pass) would fail its foreign key in the warehouse and
roll back the whole load. Such a row is held back in the processing state instead, and released on
the first pass after the key is emitted (by that pass or any earlier one). Released rows are the
rows first modelled, so each keeps its version (natural id, last updated) and a replay goes in once.
Date keys never hold a fact back: dim_date is extended over every date a pass sees.

Each held row remembers where reprocessing would recreate it (``HELD_SINCE``: the raw checkpoint of
its source table before the pass that first held it), so a pass that releases rows can say where
its output can be recreated from (see rewind.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.catalog import FACT_TABLES, STAR_TABLES
from reveries_pipeline.processing.schemas import PRIMARY_KEYS, TARGET_SCHEMAS

HELD_SINCE = "_held_since"
_WAS_HELD = "__was_held"

# The raw table each fact is modelled from (a fact has one source).
FACT_SOURCE: dict[str, str] = {fact: STAR_TABLES[fact].sources[0] for fact in FACT_TABLES}

# Per fact: the (column, dimension) references that can hold a row back (every non-date one).
DIMENSION_REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    fact: tuple((column, dim) for column, dim in STAR_TABLES[fact].references.items() if dim != "dim_date")
    for fact in FACT_TABLES
}


def held_schema(fact: str) -> pl.Schema:
    return pl.Schema({**TARGET_SCHEMAS[fact], HELD_SINCE: pl.String})


@dataclass
class HoldBack:
    emitted: dict[str, pl.DataFrame]  # per fact: rows to emit now (target schema)
    held: dict[str, pl.DataFrame]  # per fact: rows still held (held_schema)
    # per fact: {"<column> <value> (<dimension>)": natural ids held back for that missing key}
    missing: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    # per raw table: the checkpoint from which the released rows can be recreated (None: the start)
    released_from: dict[str, str | None] = field(default_factory=dict)


# Fewer rows than one in this many known keys are looked up by binary search in the sorted keys
# rather than by `is_in`, which hashes every key first (15.8 M transactions at scale 1000: ~0.2 s
# for the 500 payments of an incremental pass).
_SEARCH_BELOW = 16


def _unresolved(column: str, dim: str, known: dict[str, pl.Series], rows: int) -> pl.Expr:
    """True where the row's `column` value is not among the keys `dim` has emitted."""
    keys = known.get(dim)
    if keys is None or keys.len() == 0:
        return pl.repeat(True, pl.len())  # every row (a column, never a scalar: see hold_back)
    if rows * _SEARCH_BELOW < keys.len() and keys.is_sorted():
        sorted_keys = pl.lit(keys)
        position = sorted_keys.search_sorted(pl.col(column)).clip(upper_bound=keys.len() - 1)
        return ~(sorted_keys.gather(position) == pl.col(column))
    return ~pl.col(column).is_in(keys.implode())


def _missing_keys(fact: str, held: pl.DataFrame, known: dict[str, pl.Series]) -> dict[str, list[int]]:
    natural_id = PRIMARY_KEYS[fact][0]
    found: dict[str, list[int]] = {}
    for column, dim in DIMENSION_REFERENCES[fact]:
        orphans = (
            held.filter(_unresolved(column, dim, known, held.height)).group_by(column).agg(pl.col(natural_id).unique())
        )
        for value, ids in orphans.sort(column).iter_rows():
            found[f"{column} {value} ({dim})"] = sorted(ids)
    return found


def _released_from(released: pl.DataFrame) -> str | None:
    since = released.get_column(HELD_SINCE)
    return None if since.null_count() else since.min()


def _candidates(fact: str, new: pl.DataFrame, held: pl.DataFrame | None, since: str | None) -> pl.DataFrame:
    """Rows held before, then this pass's rows; a version already held keeps its HELD_SINCE."""
    prior = held if held is not None else pl.DataFrame(schema=held_schema(fact))
    fresh = new.with_columns(pl.lit(since, dtype=pl.String).alias(HELD_SINCE))
    both = pl.concat(
        [prior.with_columns(pl.lit(True).alias(_WAS_HELD)), fresh.with_columns(pl.lit(False).alias(_WAS_HELD))]
    )
    # the first row per key, as unique(keep="first", maintain_order=True) keeps it, but as a filter:
    # when no key repeats (the usual case) the rows aren't copied
    return both.filter(pl.struct(PRIMARY_KEYS[fact]).is_first_distinct())


def hold_back(
    out: HoldBack,
    fact: str,
    new: pl.DataFrame,
    held: pl.DataFrame | None,
    known: dict[str, pl.Series],
    since: str | None,
) -> None:
    """Split this pass's rows of ``fact`` (``new``) plus those held before into rows to emit and rows
    to keep holding, into ``out``. ``known`` holds every key each dimension has emitted, this pass
    included; ``since`` is the fact's source checkpoint before this pass. Call it per fact, handing
    over the pass's rows: they're let go of once the candidates are built, so no fact is held twice."""
    candidates = _candidates(fact, new, held, since)
    del new  # the caller handed it over: only the candidates (which share its rows) are left
    if candidates.height == 0:  # most facts of a sub-pass (modelling.py): skip matching against every key
        out.emitted[fact] = candidates.select(TARGET_SCHEMAS[fact].names())
        out.held[fact] = candidates.select(held_schema(fact).names())
        return
    # a mask, not a column: adding a column to the (many-chunked) candidates would copy every row,
    # while filtering them by a mask that keeps every row copies none
    references = DIMENSION_REFERENCES[fact]
    rows = candidates.height
    unresolved = candidates.select(
        pl.any_horizontal([_unresolved(c, d, known, rows) for c, d in references])
    ).to_series()
    ready = candidates.filter(~unresolved)
    still = candidates.filter(unresolved).select(held_schema(fact).names())
    del candidates
    released = ready.filter(pl.col(_WAS_HELD))
    if released.height:
        out.released_from[FACT_SOURCE[fact]] = _released_from(released)
    out.emitted[fact] = ready.select(TARGET_SCHEMAS[fact].names())
    out.held[fact] = still
    if still.height:
        out.missing[fact] = _missing_keys(fact, still, known)


def considered_facts(result: HoldBack) -> dict[str, pl.DataFrame]:
    """Every fact row the pass looked at (emitted or held), in target schema: dim_date covers them all."""
    return {
        fact: pl.concat([result.emitted[fact], result.held[fact].select(TARGET_SCHEMAS[fact].names())])
        for fact in FACT_TABLES
    }
