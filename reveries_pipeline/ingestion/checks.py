"""Asset checks of the raw tables, evaluated from each capture (no extra read of the source)."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, MetadataValue

from reveries_pipeline.asset_keys import raw_key
from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.change_capture import CaptureResult
from reveries_pipeline.resources.untrusted import MAX_SAMPLES

FUTURE_DATED_CHECK = "no_future_dated_rows"


def check_specs() -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(
            FUTURE_DATED_CHECK,
            asset=raw_key(table),
            description="No captured row has a last_updated past the source's own clock (plus the skew "
            "allowance). Such a row is captured once and the mark doesn't follow it; fix its timestamp at "
            "the source.",
        )
        for table in SOURCE_TABLE_NAMES
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
