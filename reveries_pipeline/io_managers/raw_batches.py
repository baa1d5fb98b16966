"""Stores each raw capture as one immutable parquet object, then advances the table's checkpoint.

The order is the guarantee: object first (durably written), checkpoint second. A crash in between
leaves the old checkpoint, so the next run captures the same rows again and nothing is lost.
"""

from __future__ import annotations

import polars as pl
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext

from reveries_pipeline.ingestion.change_capture import CaptureResult
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline.lake.batch_keys import put_new_batch
from reveries_pipeline.lake.parquet import read_all_batches
from reveries_pipeline.resources.object_store import ObjectStore


class RawBatchIOManager(ConfigurableIOManager):
    """Writes `raw/<table>` captures to the ingestion bucket; loads a table's full raw history."""

    store: ObjectStore

    def handle_output(self, context: OutputContext, obj: CaptureResult) -> None:
        table = obj.table
        metadata = {
            "rows": MetadataValue.int(obj.rows),
            "rows_read": MetadataValue.int(obj.rows_read),
            "checkpoint_before": MetadataValue.text(obj.checkpoint_before.describe()),
            "capture_seconds": MetadataValue.float(round(obj.seconds, 3)),
            "schema_fingerprint": MetadataValue.text(obj.schema_fingerprint),
        }
        if obj.schema_changes:
            metadata["schema_changes"] = MetadataValue.text("; ".join(obj.schema_changes))
        if obj.rows == 0:
            # Nothing changed: no empty object, no checkpoint movement.
            metadata["object_key"] = MetadataValue.text("(none: no changes)")
            metadata["bytes"] = MetadataValue.int(0)
            metadata["checkpoint_after"] = MetadataValue.text(obj.checkpoint_before.describe())
            context.add_output_metadata(metadata)
            context.log.info(f"raw/{table}: no changes since {obj.checkpoint_before.describe()}")
            return

        key = put_new_batch(self.store, table, obj.spool_path, obj.checkpoint_before.last_batch_key)
        obj.spool_path.unlink(missing_ok=True)

        checkpoint = obj.checkpoint_after
        checkpoint.last_batch_key = key
        checkpoint.batches += 1
        checkpoint.rows += obj.rows
        checkpoint.record_batch(key, obj.low, obj.high)  # what a quarantine of this batch must recapture
        CheckpointStore(self.store).save(checkpoint)

        metadata.update(
            object_key=MetadataValue.text(key),
            bytes=MetadataValue.int(obj.bytes),
            checkpoint_after=MetadataValue.text(checkpoint.describe()),
        )
        context.add_output_metadata(metadata)
        context.log.info(
            f"raw/{table}: wrote {obj.rows} rows ({obj.bytes} bytes) to {key} in {obj.seconds:.2f}s; "
            f"checkpoint {obj.checkpoint_before.describe()} -> {checkpoint.describe()}"
        )

    def load_input(self, context: InputContext) -> pl.DataFrame:
        """Every raw batch of the table, in write order (the lake is the system of record)."""
        return read_all_batches(self.store, context.asset_key.path[-1])
