"""Asset checks of the raw tables, evaluated from each capture (no extra read of the source)."""

from __future__ import annotations

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MetadataValue,
)

from reveries_pipeline.asset_keys import raw_key
from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.change_capture import CaptureResult
from reveries_pipeline.resources.untrusted import MAX_SAMPLES

FUTURE_DATED_CHECK = "no_future_dated_rows"
RETAINED_WAL_CHECK = "replication_slot_retained_wal"
# The slot serves every raw table; its check is shown on the first of them.
SLOT_CHECK_ASSET = raw_key(SOURCE_TABLE_NAMES[0])


def check_specs() -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            RETAINED_WAL_CHECK,
            asset=SLOT_CHECK_ASSET,
            description="Logical mode: the WAL the replication slot keeps on the source's disk stays under "
            "retained_wal_warn_bytes. It grows while captures fail or nobody confirms the slot, and a full "
            "disk stops the source. Poll mode has no slot: the check passes and says so.",
        ),
        *(
            AssetCheckSpec(
                FUTURE_DATED_CHECK,
                asset=raw_key(table),
                description="No captured row has a last_updated past the source's own clock (plus the skew "
                "allowance). Such a row is captured once and the mark doesn't follow it; fix its timestamp at "
                "the source.",
            )
            for table in SOURCE_TABLE_NAMES
        ),
    ]


def future_dated_check(capture: CaptureResult) -> AssetCheckResult:
    """WARN while any captured row of the table is still dated ahead of the source clock, naming it."""
    future = sorted(capture.future_dated, key=lambda pair: pair[1], reverse=True)
    pk = capture.source.primary_key
    listed = [{pk: key, "last_updated": at.isoformat(sep=" ", timespec="milliseconds")} for key, at in future]
    clock = capture.source_clock.isoformat(sep=" ", timespec="milliseconds") if capture.source_clock else "?"
    return AssetCheckResult(
        asset_key=raw_key(capture.table),
        check_name=FUTURE_DATED_CHECK,
        passed=not future,
        severity=AssetCheckSeverity.WARN,
        description=None
        if not future
        else f"{len(future)} row(s) of {capture.table} dated after the source clock ({clock}): "
        + ", ".join(f"{pk} {row[pk]} at {row['last_updated']}" for row in listed[:3]),
        metadata={
            "future_dated_rows": MetadataValue.int(len(future)),
            "source_clock": MetadataValue.text(clock),
            "rows": MetadataValue.json(listed[:MAX_SAMPLES]),
        },
    )


def retained_wal_selected(context: AssetExecutionContext) -> bool:
    return AssetCheckKey(SLOT_CHECK_ASSET, RETAINED_WAL_CHECK) in context.selected_asset_check_keys


def retained_wal_check(capture: TotesysCapture, retained: int | None) -> AssetCheckResult:
    """WARN when the slot keeps more WAL than the limit. In poll mode it passes, saying so, unless a
    slot left from logical mode is still on the source: nobody confirms it, so it keeps WAL forever."""
    limit = capture.retained_wal_warn_bytes
    if retained is None:
        return AssetCheckResult(
            asset_key=SLOT_CHECK_ASSET,
            check_name=RETAINED_WAL_CHECK,
            passed=True,
            description=f"{capture.mode.value} mode: no replication slot keeps WAL",
            metadata={"capture_mode": MetadataValue.text(capture.mode.value)},
        )
    leftover = "" if capture.is_logical else " left from logical mode; poll mode never confirms it"
    return AssetCheckResult(
        asset_key=SLOT_CHECK_ASSET,
        check_name=RETAINED_WAL_CHECK,
        passed=retained <= limit,
        severity=AssetCheckSeverity.WARN,
        description=None
        if retained <= limit and capture.is_logical
        else f"replication slot {capture.slot!r}{leftover} keeps {retained:,} bytes of WAL on the source "
        f"(limit {limit:,}): "
        + (
            "check that captures succeed; a slot nobody confirms fills the source's disk"
            if capture.is_logical
            else "drop it with `reveries totesys drop-cdc --apply`"
        ),
        metadata={
            "capture_mode": MetadataValue.text(capture.mode.value),
            "retained_wal_bytes": MetadataValue.int(retained),
            "retained_wal_warn_bytes": MetadataValue.int(limit),
            "slot": MetadataValue.text(capture.slot),
        },
    )
