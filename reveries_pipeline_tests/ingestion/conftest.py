from __future__ import annotations

import psycopg
import pytest
from dagster import DagsterInstance, materialize

from reveries_pipeline.ingestion.assets import raw_totesys_tables
from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.io_managers.raw_batches import RawBatchIOManager
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.totesys.schema import apply_totesys_ddl
from reveries_pipeline_tests.ingestion.source_rows import insert_minimal_source


@pytest.fixture
def source(totesys_dsn):
    with psycopg.connect(totesys_dsn) as conn:
        apply_totesys_ddl(conn)
        insert_minimal_source(conn)
    return totesys_dsn


@pytest.fixture
def run_ingestion(source, ingestion_store: ObjectStore):
    instance = DagsterInstance.ephemeral()

    def run(lookback_minutes: float = 15, raise_on_error: bool = True, selection=None):
        return materialize(
            [raw_totesys_tables],
            selection=selection,
            instance=instance,
            resources={
                "totesys": PostgresResource(dsn=source),
                "totesys_capture": TotesysCapture(),
                "ingestion_lake": ingestion_store,
                "raw_io_manager": RawBatchIOManager(store=ingestion_store),
            },
            run_config={"ops": {"raw_totesys_tables": {"config": {"lookback_minutes": lookback_minutes}}}},
            raise_on_error=raise_on_error,
        )

    return run
