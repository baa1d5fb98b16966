"""The raw assets: one per totesys table (`raw/<table>`), computed together in one step.

One multi-asset keeps Dagster's per-step process cost (~2.5 s) paid once, while the UI still shows
every table as its own asset; it can be subset to re-capture a single table.
"""

import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta
from pathlib import Path

import psycopg
from dagster import (
    AssetExecutionContext,
    AssetOut,
    Backoff,
    Config,
    Failure,
    Jitter,
    MetadataValue,
    Output,
    RetryPolicy,
    multi_asset,
)
from pydantic import Field

from reveries_pipeline.ingestion.change_capture import capture_changes
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.totesys.schema import TOTESYS_TABLES

INGESTION_GROUP = "ingestion"
LARGE_TABLES = ("payment", "transaction", "sales_order", "purchase_order")
RAW_PREFIX = "raw"

# Transient source trouble (restarts, network blips) is retried with backoff; the step is safe to
# retry because every table's checkpoint only moves after its batch is stored.
SOURCE_RETRY_POLICY = RetryPolicy(max_retries=3, delay=1, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


class IngestionConfig(Config):
    lookback_minutes: float = Field(
        default=15,
        description="Re-read this far below each table's checkpoint to catch rows that committed late.",
    )
    parallel_tables: int = Field(default=2, ge=1, le=8, description="Tables captured at the same time.")


@multi_asset(
    name="raw_totesys_tables",
    outs={
        table: AssetOut(
            key=[RAW_PREFIX, table],
            group_name=INGESTION_GROUP,
            io_manager_key="raw_io_manager",
            is_required=False,
            description=f"Immutable parquet batches of new and changed `{table}` rows from totesys.",
            kinds={"postgres", "parquet"},
        )
        for table in TOTESYS_TABLES
    },
    can_subset=True,
    pool="totesys",
    retry_policy=SOURCE_RETRY_POLICY,
)
def raw_totesys_tables(
    context: AssetExecutionContext,
    config: IngestionConfig,
    totesys: PostgresResource,
    ingestion_lake: ObjectStore,
):
    checkpoints = CheckpointStore(ingestion_lake)
    lookback = timedelta(minutes=config.lookback_minutes)
    spool_dir = Path(tempfile.mkdtemp(prefix="reveries-raw-"))

    def capture(table: str):
        checkpoint = checkpoints.load(table)
        try:
            with totesys.connection(read_only=True) as conn:
                return capture_changes(conn, table, checkpoint, spool_dir / f"{table}.parquet", lookback)
        except psycopg.OperationalError as exc:
            # Transient: the RetryPolicy retries the step. Name the table and host, never the password.
            raise RuntimeError(
                f"raw/{table}: reading totesys at {totesys.safe_name} failed: {str(exc).strip()}"
            ) from exc
        except (psycopg.Error, LookupError, TypeError) as exc:
            raise Failure(
                description=f"raw/{table}: capture from totesys at {totesys.safe_name} failed: {exc}",
                metadata={"table": MetadataValue.text(table)},
                allow_retries=False,
            ) from exc

    # Largest tables first, two at a time: COPY parsing and parquet encoding release the GIL, so the
    # two cores overlap; each capture is stored (and its checkpoint committed) as soon as it is done.
    selected = sorted(
        (t for t in TOTESYS_TABLES if t in context.selected_output_names), key=lambda t: t not in LARGE_TABLES
    )
    pool = ThreadPoolExecutor(max_workers=config.parallel_tables, thread_name_prefix="capture")
    try:
        futures = {pool.submit(capture, table): table for table in selected}
        for future in as_completed(futures):
            yield Output(future.result(), output_name=futures[future])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a failure stops the tables not yet started
