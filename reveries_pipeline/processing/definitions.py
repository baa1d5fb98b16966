"""The processing stage's definitions: the star-schema assets and their checks, `processing_job` (defined in
jobs.py), and `raw_batches_sensor`, which launches it when raw batches land."""

from dagster import Definitions

from reveries_pipeline.code_links import with_code_links
from reveries_pipeline.jobs import processing_job
from reveries_pipeline.processing.assets import star_schema_tables
from reveries_pipeline.processing.sensor import raw_batches_sensor

defs = Definitions(assets=with_code_links([star_schema_tables]), jobs=[processing_job], sensors=[raw_batches_sensor])
