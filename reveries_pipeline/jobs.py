"""Every job of the code location, in one place: each is an asset selection by group, plus tags,
executor and config.

The stages' schedules and sensors import the job they launch from here, so this module sits below the
stages and names groups (asset_keys.py) rather than importing their assets.
"""

from dagster import AssetSelection, define_asset_job, in_process_executor

from reveries_pipeline.asset_keys import PROCESSED_GROUP, RAW_GROUP, REFERENCE_GROUP, WAREHOUSE_GROUP
from reveries_pipeline.concurrency import DERIVED_WRITER_TAG


def _derived_state_job(name: str, group: str, description: str):
    """A stage's job over its asset group, tagged as a derived-state writer (one at a time)."""
    return define_asset_job(
        name, selection=AssetSelection.groups(group), tags=dict(DERIVED_WRITER_TAG), description=description
    )


# Launched by ingestion_schedule (the 10-minute backstop).
ingestion_job = define_asset_job(
    "ingestion_job",
    selection=AssetSelection.groups(RAW_GROUP),
    description="Capture new and changed rows of every totesys table into the ingestion bucket.",
)

# Launched by raw_batches_sensor.
processing_job = _derived_state_job(
    "processing_job",
    PROCESSED_GROUP,
    "Remodel every pending raw batch into the star-schema tables in the processed bucket.",
)

# Launched by processed_batches_sensor.
warehouse_job = _derived_state_job(
    "warehouse_job", WAREHOUSE_GROUP, "Load every processed batch not yet in the warehouse's load ledger."
)

# Launched by fx_rates_schedule. The group holds `reference/fx_rates` alone, and Dagster takes the
# job's daily partitions from it.
fx_rates_job = define_asset_job(
    "fx_rates_job",
    selection=AssetSelection.groups(REFERENCE_GROUP),
    description="Fetch the ECB's euro reference rates for a range of days into the warehouse.",
)

# The whole chain in one run and one process: at totesys sizes Dagster's per-step process start
# (~2.5 s) would cost more than the data work, so etl_job runs its three steps in-process.
# Launched by source_change_sensor and deleted_rows_schedule.
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
# leaves the old warehouse in place. Launched by hand (`reveries rebuild`).
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
