"""Asset checks for the processed tables, computed from the frames of one processing pass."""

from __future__ import annotations

import polars as pl
from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from reveries_pipeline.processing.schemas import DIMENSION_TABLES, FACT_TABLES, FOREIGN_KEYS, PRIMARY_KEYS

PROCESSED_TABLES: tuple[str, ...] = DIMENSION_TABLES + FACT_TABLES

# Which processed tables a rejected source row would have fed.
REJECT_TARGETS: dict[str, tuple[str, ...]] = {
    "sales_order": ("fact_sales_order",),
    "purchase_order": ("fact_purchase_order",),
    "payment": ("fact_payment",),
    "address": ("dim_location", "dim_counterparty"),
    "counterparty": ("dim_counterparty",),
    "staff": ("dim_staff",),
    "department": ("dim_staff",),
    "design": ("dim_design",),
    "currency": ("dim_currency",),
    "payment_type": ("dim_payment_type",),
    "transaction": ("dim_transaction",),
}

MAX_LISTED = 20


def check_specs() -> list[AssetCheckSpec]:
    specs = [
        AssetCheckSpec("no_rejected_rows", asset=AssetKey(t), description="No source row was rejected.")
        for t in PROCESSED_TABLES
    ]
    specs += [
        AssetCheckSpec("primary_key_unique", asset=AssetKey(t), description="Each key appears once.")
        for t in DIMENSION_TABLES
    ]
    specs += [
        AssetCheckSpec(
            "foreign_keys_resolve",
            asset=AssetKey(t),
            description="Every dimension key and every date the fact references exists in its dimension.",
        )
        for t in FACT_TABLES
    ]
    specs.append(
        AssetCheckSpec(
            "currency_codes_known",
            asset=AssetKey("dim_currency"),
            description="Every currency code is an active ISO 4217 code.",
        )
    )
    return specs


def rejects_check(table: str, rejects: pl.DataFrame, rejects_key: str | None) -> AssetCheckResult:
    sources = [s for s, targets in REJECT_TARGETS.items() if table in targets]
    mine = rejects.filter(pl.col("table").is_in(sources))
    listed = [
        f"{r['table']} id={r['primary_key']} from {r['source_key']}: {r['reason']}"
        for r in mine.head(MAX_LISTED).iter_rows(named=True)
    ]
    return AssetCheckResult(
        asset_key=AssetKey(table),
        check_name="no_rejected_rows",
        passed=mine.height == 0,
        severity=AssetCheckSeverity.ERROR,
        description=None if mine.height == 0 else f"{mine.height} source rows rejected; see {rejects_key}",
        metadata={
            "rejected_rows": MetadataValue.int(mine.height),
            "rejects_object": MetadataValue.text(rejects_key or "(none)"),
            "rejected": MetadataValue.md("\n".join(f"- {line}" for line in listed) or "none"),
        },
    )


def primary_key_check(table: str, frame: pl.DataFrame) -> AssetCheckResult:
    keys = list(PRIMARY_KEYS[table])
    dupes = frame.group_by(keys).len().filter(pl.col("len") > 1)
    return AssetCheckResult(
        asset_key=AssetKey(table),
        check_name="primary_key_unique",
        passed=dupes.height == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "rows_checked": MetadataValue.int(frame.height),
            "duplicate_keys": MetadataValue.int(dupes.height),
            "examples": MetadataValue.text(str(dupes.head(MAX_LISTED).rows())),
        },
    )


def foreign_key_check(fact: str, frame: pl.DataFrame, known_keys: dict[str, pl.Series]) -> AssetCheckResult:
    orphans: dict[str, list] = {}
    for fact_table, column, dim, _dim_column in FOREIGN_KEYS:
        if fact_table != fact or frame.height == 0:
            continue
        values = frame.get_column(column).unique()
        missing = values.filter(~values.is_in(known_keys[dim].implode()))
        if missing.len():
            orphans[f"{column} -> {dim}"] = missing.head(MAX_LISTED).to_list()
    return AssetCheckResult(
        asset_key=AssetKey(fact),
        check_name="foreign_keys_resolve",
        passed=not orphans,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "rows_checked": MetadataValue.int(frame.height),
            "orphans": MetadataValue.json({k: [str(v) for v in vs] for k, vs in orphans.items()}),
        },
    )


def currency_check(unknown_codes: list[str]) -> AssetCheckResult:
    return AssetCheckResult(
        asset_key=AssetKey("dim_currency"),
        check_name="currency_codes_known",
        passed=not unknown_codes,
        severity=AssetCheckSeverity.WARN,
        description=None if not unknown_codes else f"unknown currency codes: {', '.join(unknown_codes)}",
        metadata={"unknown_codes": MetadataValue.text(", ".join(unknown_codes) or "none")},
    )
