"""The Reveries code location: totesys -> raw (ingestion bucket) -> processed (parquet) -> warehouse."""

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from reveries_pipeline.environment import build_resources
from reveries_pipeline.ingestion.assets import raw_totesys_tables
from reveries_pipeline.ingestion.schedule import ingestion_job, ingestion_schedule
from reveries_pipeline.operations import make_alert_sensors
from reveries_pipeline.processing.assets import PROCESSED_GROUP, star_schema_tables
from reveries_pipeline.processing.sensor import ingestion_bucket_sensor, processing_job
from reveries_pipeline.warehouse.assets import WAREHOUSE_GROUP, warehouse_tables
from reveries_pipeline.warehouse.sensor import processed_bucket_sensor, warehouse_job

# Jobs that write derived state (processing checkpoint, processed objects, warehouse) carry this tag;
# dagster.yaml lets one of them run at a time, so a rebuild never races a sensor-launched load.
DERIVED_WRITER = {"reveries/derived_state": "writer"}

# The whole chain in one run and one process: at totesys sizes Dagster's per-step process start
# (~2.5 s) would cost more than the data work, so etl_job runs its three steps in-process.
etl_job = define_asset_job(
    "etl_job",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    tags=DERIVED_WRITER,
    description="Ingestion -> processing -> warehouse in a single run (used by `make demo` and `reveries run`).",
)

# Replay from the lake: empty processing state and warehouse, rebuild both from every raw batch.
# The warehouse step empties the warehouse itself, inside its load transaction, so a failed rebuild
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
    tags=DERIVED_WRITER,
    description="Rebuild the processed tables and the warehouse from the raw lake, without touching the source.",
)

defs = Definitions(
    assets=[raw_totesys_tables, star_schema_tables, warehouse_tables],
    jobs=[ingestion_job, processing_job, warehouse_job, etl_job, rebuild_job],
    schedules=[ingestion_schedule],
    sensors=[ingestion_bucket_sensor, processed_bucket_sensor, *make_alert_sensors()],
    resources=build_resources(),
)
