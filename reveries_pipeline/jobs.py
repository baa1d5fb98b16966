"""The jobs that span the stages: the whole chain in one run, and the rebuild from the raw lake."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from reveries_pipeline.asset_keys import PROCESSED_GROUP, RAW_GROUP, WAREHOUSE_GROUP
from reveries_pipeline.concurrency import DERIVED_WRITER_TAG

# The whole chain in one run and one process: at totesys sizes Dagster's per-step process start
# (~2.5 s) would cost more than the data work, so etl_job runs its three steps in-process.
etl_job = define_asset_job(
    "etl_job",
    # The FX rates (reference group) are daily partitions with their own job and schedule.
    selection=AssetSelection.groups(RAW_GROUP, PROCESSED_GROUP, WAREHOUSE_GROUP),
    executor_def=in_process_executor,
    tags=dict(DERIVED_WRITER_TAG),
    description="Ingestion -> processing -> warehouse in a single run (used by `make demo` and `reveries run`).",
)

# Replay from the lake. Each stage resets its own derived state: processing its bucket and state
# (after reading every raw batch), the warehouse inside its load transaction, so a failed rebuild
# leaves the old warehouse in place.
rebuild_job = define_asset_job(
    "rebuild_job",
    selection=AssetSelection.groups(PROCESSED_GROUP, WAREHOUSE_GROUP),
    executor_def=in_process_executor,
    config={
        "ops": {
            "star_schema_tables": {"config": {"rebuild": True}},
            "warehouse_tables": {"config": {"rebuild": True}},
        }
    },
    tags=dict(DERIVED_WRITER_TAG),
    description="Rebuild the processed tables and the warehouse from the raw lake, without touching the source.",
)
