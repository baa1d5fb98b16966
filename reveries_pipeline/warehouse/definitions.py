"""The warehouse stage's definitions: the warehouse assets and their checks, `warehouse_job`, and the
sensor that launches it when processed batches land."""

from dagster import Definitions, with_source_code_references

from reveries_pipeline.warehouse.assets import warehouse_tables
from reveries_pipeline.warehouse.sensor import processed_bucket_sensor, warehouse_job

defs = Definitions(
    assets=with_source_code_references([warehouse_tables]), jobs=[warehouse_job], sensors=[processed_bucket_sensor]
)
