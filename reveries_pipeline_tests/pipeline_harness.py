"""Runs the real assets, with the real IO managers, against test databases and buckets."""

from __future__ import annotations

import psycopg
from dagster import DagsterInstance, materialize

from reveries_pipeline.ingestion.assets import raw_totesys_tables
from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.io_managers.parquet import ProcessedParquetIOManager
from reveries_pipeline.io_managers.raw_batches import RawBatchIOManager
from reveries_pipeline.processing.assets import star_schema_tables
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.warehouse.assets import warehouse_tables


class Pipeline:
    def __init__(
        self,
        totesys_dsn: str,
        warehouse_dsn: str,
        ingestion: ObjectStore,
        processed: ObjectStore,
        capture: TotesysCapture | None = None,
    ):
        self.totesys_dsn, self.warehouse_dsn = totesys_dsn, warehouse_dsn
        self.ingestion, self.processed = ingestion, processed
        self.resources = {
            "totesys": PostgresResource(dsn=totesys_dsn),
            "totesys_capture": capture or TotesysCapture(),
            "warehouse": PostgresResource(dsn=warehouse_dsn),
            "ingestion_lake": ingestion,
            "processed_lake": processed,
            "raw_io_manager": RawBatchIOManager(store=ingestion),
            "processed_io_manager": ProcessedParquetIOManager(store=processed),
        }
        self.instance = DagsterInstance.ephemeral()

    def _run(self, assets, raise_on_error=True, run_config=None, selection=None):
        return materialize(
            assets,
            resources=self.resources,
            instance=self.instance,
            raise_on_error=raise_on_error,
            run_config=run_config,
            selection=selection,
        )

    def ingest(self, **kw):
        return self._run([raw_totesys_tables], **kw)

    def process(self, **kw):
        return self._run([star_schema_tables], **kw)

    def load(self, **kw):
        return self._run([warehouse_tables], **kw)

    def load_with(self, **config):
        """The warehouse step with this `warehouse_tables` run config (rebuild, lock_timeout_seconds)."""
        return self._run([warehouse_tables], run_config={"ops": {"warehouse_tables": {"config": config}}})

    def etl(self, **kw):
        return self._run([raw_totesys_tables, star_schema_tables, warehouse_tables], **kw)

    def source(self, query: str, params=None) -> list[tuple]:
        with psycopg.connect(self.totesys_dsn) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def warehouse(self, query: str, params=None) -> list[tuple]:
        with psycopg.connect(self.warehouse_dsn) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []


def check_results(result) -> dict[tuple[str, str], object]:
    """{(asset path, check name): AssetCheckEvaluation} of a materialize() result."""
    return {("/".join(e.asset_key.path), e.check_name): e for e in result.get_asset_check_evaluations()}
