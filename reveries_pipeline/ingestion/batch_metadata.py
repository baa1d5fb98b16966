"""What every raw output reports: Dagster's standard row count and column schema, and how the capture went.

The IO manager adds `dagster/uri` once it has stored the batch: only it knows where it wrote.
"""

from __future__ import annotations

from dagster import MetadataValue, TableColumn, TableSchema

from reveries_pipeline.ingestion.change_capture import CaptureResult
from reveries_pipeline.ingestion.source_schema import UNREPRESENTABLE, SourceTable
from reveries_pipeline.lake.object_names import OBJECT_KEY_METADATA

NO_OBJECT = "(none: no changes)"


def batch_metadata(capture: CaptureResult, object_key: str | None) -> dict[str, MetadataValue]:
    """Metadata of the output holding `capture`, stored at `object_key` (None: nothing changed, no object)."""
    metadata = {
        "dagster/row_count": MetadataValue.int(capture.rows),
        "dagster/column_schema": MetadataValue.table_schema(column_schema(capture.source)),
        "rows": MetadataValue.int(capture.rows),
        "rows_read": MetadataValue.int(capture.rows_read),
        "checkpoint_before": MetadataValue.text(capture.checkpoint_before.describe()),
        "capture_seconds": MetadataValue.float(round(capture.seconds, 3)),
        "schema_fingerprint": MetadataValue.text(capture.source.fingerprint),
    }
    if capture.vanished is not None:
        metadata["deleted_rows"] = MetadataValue.int(capture.vanished.rows.height)
    if capture.schema_changes:
        metadata["schema_changes"] = MetadataValue.text("; ".join(capture.schema_changes))
    metadata[OBJECT_KEY_METADATA] = MetadataValue.text(object_key or NO_OBJECT)
    metadata["bytes"] = MetadataValue.int(capture.bytes)
    # with no rows, the mark stays where it was
    metadata["checkpoint_after"] = MetadataValue.text(capture.checkpoint_after.describe())
    return metadata


def column_schema(source: SourceTable) -> TableSchema:
    """The batch's columns, typed as the source declares them (e.g. numeric(10,2)), then the capture's own."""
    unrepresentable = TableColumn(
        name=UNREPRESENTABLE,
        type="json",
        description="{column: source text} of values with no exact typed value (NaN, infinity, BC); null: none",
    )
    return TableSchema(
        columns=[*(TableColumn(name=c.name, type=c.pg_type) for c in source.source_columns), unrepresentable]
    )
