"""The warehouse stage's definitions: the warehouse assets and their checks, `warehouse_job` (defined in
jobs.py), and `processed_batches_sensor`, which launches it when processed batches land."""

from dagster import Definitions

from reveries_pipeline.code_links import with_code_links
from reveries_pipeline.jobs import warehouse_job
from reveries_pipeline.warehouse.assets import warehouse_tables
from reveries_pipeline.warehouse.sensor import processed_batches_sensor

defs = Definitions(assets=with_code_links([warehouse_tables]), jobs=[warehouse_job], sensors=[processed_batches_sensor])
