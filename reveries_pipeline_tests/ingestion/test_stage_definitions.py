"""The ingestion stage as the lineage graph shows it: `raw/<table>` assets in the `raw` group, which is
what ingestion_job selects."""

from __future__ import annotations

from reveries_pipeline.asset_keys import RAW_GROUP, raw_key
from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.assets import raw_totesys_tables
from reveries_pipeline.ingestion.definitions import defs
from reveries_pipeline.jobs import ingestion_job


def test_every_source_table_is_a_raw_asset_of_the_raw_group():
    assert raw_totesys_tables.group_names_by_key == {raw_key(t): RAW_GROUP for t in SOURCE_TABLE_NAMES}


def test_ingestion_job_selects_every_raw_asset():
    assert ingestion_job.selection.resolve([raw_totesys_tables]) == {raw_key(t) for t in SOURCE_TABLE_NAMES}
    assert defs.jobs == [ingestion_job]
    # the stage's Definitions hold the raw assets (with code references attached, so a copy)
    assert [a.keys for a in defs.assets] == [raw_totesys_tables.keys]
