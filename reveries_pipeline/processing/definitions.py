"""The processing stage's definitions: the star-schema assets and their checks, `processing_job`, and
the sensor that launches it when raw batches land."""

from dagster import Definitions, with_source_code_references

from reveries_pipeline.processing.assets import star_schema_tables
from reveries_pipeline.processing.sensor import ingestion_bucket_sensor, processing_job

defs = Definitions(
    assets=with_source_code_references([star_schema_tables]), jobs=[processing_job], sensors=[ingestion_bucket_sensor]
)
