"""Asset checks for the processed tables, computed from the frames of one processing pass.

Reject reasons, dimension keys and currency codes come from source rows: they are shown as text
metadata (never Markdown), each value bounded and escaped, at most MAX_LISTED of them (untrusted.py).
"""

from __future__ import annotations

import polars as pl
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from reveries_pipeline.asset_keys import processed_key
from reveries_pipeline.catalog import DIMENSION_TABLES, FACT_TABLES, STAR_TABLE_NAMES, STAR_TABLES
from reveries_pipeline.processing.schemas import PRIMARY_KEYS
from reveries_pipeline.resources.untrusted import MAX_SAMPLES, bounded, bounded_lines

MAX_LISTED = MAX_SAMPLES
MAX_KEY_CHARS = 100  # a dimension key or currency code quoted in a description


def check_specs() -> list[AssetCheckSpec]:
    specs = [
        AssetCheckSpec("no_rejected_rows", asset=processed_key(t), description="No source row was rejected.")
        for t in STAR_TABLE_NAMES
    ]
    specs += [
        AssetCheckSpec("primary_key_unique", asset=processed_key(t), description="Each key appears once.")
        for t in DIMENSION_TABLES
    ]
    specs += [
        AssetCheckSpec(
            "no_held_back_facts",
            asset=processed_key(t),
            description="No fact row is held back waiting for a dimension key no pass has emitted yet "
            "(held rows are released, and loaded, on the first pass after their dimension arrives).",
        )
        for t in FACT_TABLES
    ]
    specs.append(
        AssetCheckSpec(
            "currency_codes_known",
            asset=processed_key("dim_currency"),
            description="Every currency code is an active ISO 4217 code.",
        )
    )
    return specs


def rejects_check(table: str, rejects: pl.DataFrame, rejects_key: str | None) -> AssetCheckResult:
    mine = rejects.filter(pl.col("table").is_in(list(STAR_TABLES[table].sources)))  # rows that would have fed it
    listed = (
        f"{r['table']} id={r['primary_key']} from {r['source_key']}: {r['reason']}"
        for r in mine.head(MAX_LISTED).iter_rows(named=True)
    )
    return AssetCheckResult(
        asset_key=processed_key(table),
        check_name="no_rejected_rows",
        passed=mine.height == 0,
        severity=AssetCheckSeverity.ERROR,
        description=None if mine.height == 0 else f"{mine.height} source rows rejected; see {rejects_key}",
        metadata={
            "rejected_rows": MetadataValue.int(mine.height),
            "rejects_object": MetadataValue.text(rejects_key or "(none)"),
            "rejected": MetadataValue.text(bounded_lines(listed, mine.height) or "none"),
        },
    )


def _duplicate_keys(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """(key..., len) of each key found more than once. A single sorted key column (a dimension
    modelled in key ranges: millions of keys) is checked by neighbours, without a hash table."""
    if len(keys) == 1 and frame.get_column(keys[0]).is_sorted():
        column = pl.col(keys[0])
        repeated = frame.filter((column == column.shift(1)) | (column == column.shift(-1)))
        return repeated.group_by(keys, maintain_order=True).len()
    return frame.group_by(keys).len().filter(pl.col("len") > 1)


def primary_key_check(table: str, frame: pl.DataFrame | pl.LazyFrame) -> AssetCheckResult:
    """Whether each key appears once (a lazy frame, a spooled table, is read for its keys only)."""
    keys = list(PRIMARY_KEYS[table])
    frame = frame.lazy().select(keys).collect()
    dupes = _duplicate_keys(frame, keys)
    return AssetCheckResult(
        asset_key=processed_key(table),
        check_name="primary_key_unique",
        passed=dupes.height == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "rows_checked": MetadataValue.int(frame.height),
            "duplicate_keys": MetadataValue.int(dupes.height),
            "examples": MetadataValue.text(bounded_lines(dupes.head(MAX_LISTED).rows(), dupes.height) or "none"),
        },
    )


def held_check(fact: str, held: pl.DataFrame, missing: dict[str, list[int]]) -> AssetCheckResult:
    """WARN while fact rows are held back: loading carries on without them. `missing` maps each
    missing dimension key ("<column> <value> (<dimension>)") to the natural ids waiting for it."""
    natural_id = PRIMARY_KEYS[fact][0]
    listed = {bounded(ref, MAX_KEY_CHARS): ids[:MAX_LISTED] for ref, ids in list(missing.items())[:MAX_LISTED]}
    summary = "; ".join(f"{ref}: {natural_id} {', '.join(map(str, ids))}" for ref, ids in listed.items())
    if len(missing) > len(listed):
        summary += f"; and {len(missing) - len(listed)} more missing keys"
    return AssetCheckResult(
        asset_key=processed_key(fact),
        check_name="no_held_back_facts",
        passed=held.height == 0,
        severity=AssetCheckSeverity.WARN,
        description=None
        if held.height == 0
        else f"{held.height} rows held back until their dimension key is emitted: {summary}",
        metadata={
            "held_rows": MetadataValue.int(held.height),
            "missing_keys": MetadataValue.int(len(missing)),
            "held": MetadataValue.json({ref: [int(i) for i in ids] for ref, ids in listed.items()}),
        },
    )


def currency_check(unknown_codes: list[str]) -> AssetCheckResult:
    shown = ", ".join(bounded(code, MAX_KEY_CHARS) for code in unknown_codes[:MAX_LISTED])
    if len(unknown_codes) > MAX_LISTED:
        shown += f" and {len(unknown_codes) - MAX_LISTED} more"
    return AssetCheckResult(
        asset_key=processed_key("dim_currency"),
        check_name="currency_codes_known",
        passed=not unknown_codes,
        severity=AssetCheckSeverity.WARN,
        description=None if not unknown_codes else f"unknown currency codes: {shown}",
        metadata={"unknown_codes": MetadataValue.text(shown or "none")},
    )
