"""The raw assets: one per totesys table (`raw/<table>`), computed together in one step.

One multi-asset keeps Dagster's per-step process cost (~2.5 s) paid once, while the UI still shows
every table as its own asset; it can be subset to re-capture a single table.

One table failing doesn't stop the others: every selected table is captured, each success is stored
(and its checkpoint committed) at once, and the step then fails once, naming every failed table.
"""

import threading
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import timedelta

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

from reveries_pipeline.concurrency import TOTESYS_POOL
from reveries_pipeline.ingestion.change_capture import capture_changes
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline.ingestion.drift import SchemaDriftError
from reveries_pipeline.ingestion.spool import spool_directory, sweep_stale_spools
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


class SourceUnreachable(Exception):
    """A table not attempted because another table found the source unreachable."""


@dataclass(frozen=True)
class TableFailure:
    table: str
    message: str
    permanent: bool  # retrying the step can't fix it (schema drift, a missing table...)
    error: BaseException | None = None


def _classify(table: str, where: str, exc: BaseException) -> TableFailure:
    if isinstance(exc, psycopg.OperationalError):
        # Transient: the RetryPolicy retries the step. Name the table and host, never the password.
        return TableFailure(table, f"raw/{table}: reading totesys at {where} failed: {str(exc).strip()}", False, exc)
    if isinstance(exc, SourceUnreachable):
        return TableFailure(table, f"raw/{table}: not attempted, totesys at {where} was unreachable", False)
    if isinstance(exc, SchemaDriftError):
        return TableFailure(table, str(exc), True, exc)
    if isinstance(exc, psycopg.Error | LookupError | TypeError):
        return TableFailure(table, f"raw/{table}: capture from totesys at {where} failed: {exc}", True, exc)
    # anything else (the bucket, the local disk) may pass: let the RetryPolicy try again
    return TableFailure(table, f"raw/{table}: {type(exc).__name__}: {exc}", False, exc)


def _failure(failures: list[TableFailure], selected: list[str]) -> Failure:
    captured = len(selected) - len(failures)
    lines = "\n".join(f.message for f in failures)
    return Failure(
        description=f"{len(failures)} of {len(selected)} tables failed ({captured} captured):\n{lines}",
        metadata={
            "failed_tables": MetadataValue.json({f.table: f.message for f in failures}),
            "captured_tables": MetadataValue.int(captured),
        },
        allow_retries=not all(f.permanent for f in failures),
    )


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
    pool=TOTESYS_POOL,
    retry_policy=SOURCE_RETRY_POLICY,
)
def raw_totesys_tables(
    context: AssetExecutionContext,
    config: IngestionConfig,
    totesys: PostgresResource,
    ingestion_lake: ObjectStore,
):
    for path in sweep_stale_spools():
        context.log.info(f"removed the spool of an ingestion run that is gone: {path}")
    # Largest tables first: COPY parsing and parquet encoding release the GIL, so the two cores overlap.
    selected = sorted(
        (t for t in TOTESYS_TABLES if t in context.selected_output_names), key=lambda t: t not in LARGE_TABLES
    )
    failures: list[TableFailure] = []
    with spool_directory() as spool_dir:
        checkpoints = CheckpointStore(ingestion_lake)
        lookback = timedelta(minutes=config.lookback_minutes)

        def capture(table: str):
            checkpoint = checkpoints.load(table)
            with totesys.connection(read_only=True) as conn:
                return capture_changes(conn, table, checkpoint, spool_dir / f"{table}.parquet", lookback)

        for table, outcome in _run_all(capture, selected, config.parallel_tables):
            if isinstance(outcome, BaseException):
                failures.append(_classify(table, totesys.safe_name, outcome))
                continue
            for change in outcome.schema_changes:
                context.log.warning(f"raw/{table}: source schema changed: {change}")
            # stored, and its checkpoint committed, before the next table's result is taken
            yield Output(outcome, output_name=table)
    if failures:
        first = next((f.error for f in failures if f.error is not None), None)
        raise _failure(failures, selected) from first


def _run_all(capture, tables: list[str], parallel: int):
    """(table, result or exception) for each table, as each finishes.

    A transient source error (the source unreachable) skips the tables not yet started: they would
    only wait out the same timeout, and the step's retry captures them all.
    """
    unreachable = threading.Event()

    def attempt(table: str):
        if unreachable.is_set():
            raise SourceUnreachable(table)
        try:
            return capture(table)
        except psycopg.OperationalError:
            unreachable.set()
            raise

    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="capture")
    try:
        futures: dict[Future, str] = {pool.submit(attempt, table): table for table in tables}
        for future in as_completed(futures):
            exc = future.exception()
            yield futures[future], exc if exc is not None else future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # the step was stopped: don't start more tables
