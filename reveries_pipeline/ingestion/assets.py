"""The raw assets: one per totesys table (`raw/<table>`, group `raw`), computed together in one step.

One multi-asset keeps Dagster's per-step process cost (~2.5 s) paid once, while the UI still shows
every table as its own asset; it can be subset to re-capture a single table.

Each table in turn: capture its changes to a local spool file, hand the file to the IO manager (which
stores it as one immutable batch object), then commit the table's checkpoint. The order is the
guarantee: a crash between the two leaves the old checkpoint, so the next run captures the same rows
again and nothing is lost. One table failing doesn't stop the others; the step then fails once,
naming every failed table (failures.py).

Both capture modes (capture_mode.py) keep those rules and hand over the same CaptureResult per table:
poll reads each table by `last_updated` (change_capture.py); logical reads every table's committed
changes from one replication slot read (logical_capture.py) and confirms the slot last, once every
table's batch is stored.
"""

# No `from __future__ import annotations`: Dagster reads the config and resource annotations at runtime.
from collections.abc import Generator, Iterator, Sequence
from datetime import timedelta
from functools import partial
from pathlib import Path

import psycopg
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetOut,
    Backoff,
    Config,
    Jitter,
    Output,
    RetryPolicy,
    multi_asset,
)
from pydantic import Field, field_validator

from reveries_pipeline.asset_keys import RAW_GROUP, raw_key
from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.concurrency import TOTESYS_POOL
from reveries_pipeline.ingestion import checks
from reveries_pipeline.ingestion.batch_metadata import batch_metadata
from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.change_capture import CaptureResult, CaptureWindow, capture_changes
from reveries_pipeline.ingestion.checkpoints import CheckpointStore
from reveries_pipeline.ingestion.embedded_source import fill_an_empty_embedded_totesys
from reveries_pipeline.ingestion.failures import (
    TableFailure,
    classify_failure,
    first_error,
    slot_read_failure,
    step_failure,
)
from reveries_pipeline.ingestion.logical import SlotUnavailableError, confirm, retained_wal_bytes
from reveries_pipeline.ingestion.logical_capture import LogicalRun, capture_logical, slot_summary
from reveries_pipeline.ingestion.parallel import run_per_table
from reveries_pipeline.ingestion.reconcile import Reconciler
from reveries_pipeline.ingestion.spool import spool_directory, sweep_stale_spools
from reveries_pipeline.lake.object_names import next_batch_key
from reveries_pipeline.resources import ObjectStore, PostgresResource

LARGE_TABLES = ("payment", "transaction", "sales_order", "purchase_order")

# Transient source trouble (restarts, network blips) is retried with backoff; the step is safe to
# retry because every table's checkpoint only moves after its batch is stored.
SOURCE_RETRY_POLICY = RetryPolicy(max_retries=3, delay=1, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


class IngestionConfig(Config):
    lookback_minutes: float = Field(
        default=15,
        ge=0,
        le=7 * 24 * 60,
        description="Re-read this far below each table's checkpoint to catch rows that committed late "
        "(0 to 10080 minutes).",
    )
    clock_skew_minutes: float = Field(
        default=5,
        ge=0,
        le=24 * 60,
        description="How far past the source's own clock a checkpoint may move (0 to 1440 minutes). A row "
        "dated later is still captured, once, and named by the no_future_dated_rows check.",
    )
    parallel_tables: int = Field(default=2, ge=1, le=8, description="Tables captured at the same time.")
    reconcile_deletes: bool = Field(
        default=False,
        description="Poll mode: also read the tables' primary keys and append a delete row for each row "
        "captured before and gone from the source now (source_change_sensor sets this when the source "
        "counted deletes; deleted_rows_schedule hourly as a backstop). Logical mode ignores it.",
    )
    reconcile_only: list[str] = Field(
        default_factory=list,
        description="With reconcile_deletes: only these tables (empty: every table).",
    )

    @field_validator("reconcile_only")
    @classmethod
    def _known_tables(cls, tables: list[str]) -> list[str]:
        if unknown := sorted(set(tables) - set(SOURCE_TABLE_NAMES)):
            raise ValueError(f"reconcile_only names tables totesys doesn't have: {unknown}")
        return tables

    def capture_window(self) -> CaptureWindow:
        return CaptureWindow(timedelta(minutes=self.lookback_minutes), timedelta(minutes=self.clock_skew_minutes))

    def reconciles(self, table: str) -> bool:
        return self.reconcile_deletes and (not self.reconcile_only or table in self.reconcile_only)


def reconcile_run_config(tables: Sequence[str] = ()) -> dict:
    """The run config of a run that also reconciles deletes: of `tables`, or every table."""
    config = {"reconcile_deletes": True, "reconcile_only": list(tables)}
    return {"ops": {"raw_totesys_tables": {"config": config}}}


@multi_asset(
    name="raw_totesys_tables",
    outs={
        table: AssetOut(
            key=raw_key(table),
            group_name=RAW_GROUP,
            io_manager_key="raw_io_manager",
            is_required=False,
            description=f"Immutable parquet batches of new and changed `{table}` rows from totesys.",
            kinds={"postgres", "parquet"},
        )
        for table in SOURCE_TABLE_NAMES
    },
    check_specs=checks.check_specs(),
    can_subset=True,
    pool=TOTESYS_POOL,
    retry_policy=SOURCE_RETRY_POLICY,
)
def raw_totesys_tables(
    context: AssetExecutionContext,
    config: IngestionConfig,
    totesys: PostgresResource,
    totesys_capture: TotesysCapture,
    ingestion_lake: ObjectStore,
):
    for path in sweep_stale_spools():
        context.log.info(f"removed the spool of an ingestion run that is gone: {path}")
    if filled := fill_an_empty_embedded_totesys(totesys):
        context.log.warning(
            f"the embedded totesys had no tables: filled it with {filled} rows of generated data of the real "
            "database's shape (another size: .venv/bin/reveries totesys seed --scale 10; a real source: set "
            "TOTESYS_DSN)"
        )
    selected = _largest_first(t for t in SOURCE_TABLE_NAMES if t in context.selected_output_names)
    checkpoints = CheckpointStore(ingestion_lake)
    with spool_directory() as spool_dir:
        if totesys_capture.is_logical:
            capture = partial(_capture_from_slot, totesys_capture, checkpoints)
        else:
            capture = partial(_capture_by_polling, config, checkpoints, ingestion_lake)
        failures, retained_wal = yield from capture(context, totesys, spool_dir, selected)
    if checks.retained_wal_selected(context):
        if not totesys_capture.is_logical:
            retained_wal = _leftover_slot_wal(totesys, totesys_capture)
        yield checks.retained_wal_check(totesys_capture, retained_wal)
    if failures:
        raise step_failure(failures, selected) from first_error(failures)


def _capture_by_polling(
    config: IngestionConfig,
    checkpoints: CheckpointStore,
    ingestion_lake: ObjectStore,
    context: AssetExecutionContext,
    totesys: PostgresResource,
    spool_dir: Path,
    selected: list[str],
) -> Generator[Output | AssetCheckResult, None, tuple[list[TableFailure], None]]:
    """Each table in its own read-only transaction, `parallel_tables` at a time; each stored, then
    its checkpoint saved, as it completes."""
    failures: list[TableFailure] = []
    reconciler = Reconciler(ingestion_lake) if config.reconcile_deletes else None
    capture_table = partial(_capture_table, totesys, checkpoints, spool_dir, config, reconciler)
    unchanged: list[CaptureResult] = []
    for table, outcome in run_per_table(capture_table, selected, config.parallel_tables):
        if isinstance(outcome, BaseException):
            failures.append(classify_failure(table, totesys.safe_name, outcome))
        else:
            # stored, and its checkpoint committed, before the next table's result is taken
            yield from _store_then_commit(context, checkpoints, outcome)
            unchanged += [outcome] if outcome.rows == 0 else []
    _log_unchanged(context, unchanged)
    return failures, None


def _log_unchanged(context: AssetExecutionContext, unchanged: list[CaptureResult]) -> None:
    if unchanged:
        marks = ", ".join(f"{c.table} (since {c.checkpoint_before.describe()})" for c in unchanged)
        context.log.info(f"no changes in {len(unchanged)} tables: {marks}")


def _capture_from_slot(
    capture: TotesysCapture,
    checkpoints: CheckpointStore,
    context: AssetExecutionContext,
    totesys: PostgresResource,
    spool_dir: Path,
    selected: list[str],
) -> Generator[Output | AssetCheckResult, None, tuple[list[TableFailure], int | None]]:
    """One read of the replication slot for every table; each table stored, then its checkpoint
    saved; then the slot confirmed, only once everything read is stored (logical_capture.py)."""
    settings = capture.logical_settings()
    before = {table: checkpoints.load(table) for table in settings.tables}
    with totesys.raw_connection(autocommit=True) as conn:
        try:
            run = capture_logical(conn, settings, before, selected, spool_dir)
        except Exception as exc:  # the one read failed: every selected table with it
            failure = slot_read_failure(totesys.safe_name, exc)
            raise step_failure([failure], selected) from failure.error
        for result in run.captures:
            yield from _store_then_commit(context, checkpoints, result)
        failures = [classify_failure(t, totesys.safe_name, e) for t, e in run.failed.items()]
        context.log.info(slot_summary(run, confirmed=_confirm(conn, settings, run, failures)))
        return failures, retained_wal_bytes(conn, settings)


def _leftover_slot_wal(totesys: PostgresResource, capture: TotesysCapture) -> int | None:
    """Poll mode: the WAL a slot left from logical mode keeps (None: no such slot). One catalog read."""
    try:
        with totesys.connection(read_only=True) as conn:
            return retained_wal_bytes(conn, capture.logical_settings())
    except (SlotUnavailableError, psycopg.OperationalError):
        return None  # an unreachable source has failed every table already


def _confirm(conn, settings, run: LogicalRun, failures: list[TableFailure]) -> int | None:
    """Free the WAL of what every table has stored; not after a subset run or a failed table."""
    if run.confirm_lsn is None or failures:
        return None
    return confirm(conn, settings, run.confirm_lsn)


def _largest_first(tables) -> list[str]:
    # COPY parsing and parquet encoding release the GIL, so the two cores overlap on the big tables.
    return sorted(tables, key=lambda t: t not in LARGE_TABLES)


def _capture_table(
    totesys: PostgresResource,
    checkpoints: CheckpointStore,
    spool_dir: Path,
    config: IngestionConfig,
    reconciler: Reconciler | None,
    table: str,
) -> CaptureResult:
    checkpoint = checkpoints.load(table)
    window = config.capture_window()
    reconciler = reconciler if config.reconciles(table) else None
    with totesys.connection(read_only=True) as conn:
        if reconciler is not None:
            # the capture and the key read see one snapshot: a row read by one is seen by the other
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return capture_changes(conn, table, checkpoint, spool_dir / f"{table}.parquet", window, reconciler)


def _store_then_commit(
    context: AssetExecutionContext, checkpoints: CheckpointStore, capture: CaptureResult
) -> Iterator[Output]:
    table, before = capture.table, capture.checkpoint_before
    for change in capture.schema_changes:
        context.log.warning(f"raw/{table}: source schema changed: {change}")
    for repair in capture.repairs:
        context.log.warning(f"raw/{table}: {repair}")
    if capture.rows == 0:
        # Nothing changed: no object is written, and the checkpoint moves only if its mark was
        # repaired, or a snapshot of an empty table set its slot position.
        yield Output(None, output_name=table, metadata=batch_metadata(capture, None))
        yield checks.future_dated_check(capture)
        if capture.repairs or capture.snapshot:
            checkpoints.save(capture.checkpoint_after)
        _save_reconciliation(checkpoints.store, capture, before.last_batch_key)
        return  # said once for every unchanged table (_log_unchanged), not with a log event each
    key = next_batch_key(table, before.last_batch_key)  # sorts after every batch of the table
    yield Output(capture.spool_path, output_name=table, metadata=batch_metadata(capture, key))
    # Dagster resumes the asset only once the IO manager has durably stored the object.
    after = capture.checkpoint_after.with_stored_batch(key, capture.rows, capture.low, capture.high)
    checkpoints.save(after)
    _save_reconciliation(checkpoints.store, capture, key)
    yield checks.future_dated_check(capture)
    capture.spool_path.unlink(missing_ok=True)
    context.log.info(
        f"raw/{table}: wrote {capture.rows} rows{_deletes(capture)} ({capture.bytes} bytes) to {key} in "
        f"{capture.seconds:.2f}s; "
        f"checkpoint {before.describe()} -> {after.describe()}"
    )


def _save_reconciliation(ingestion_lake: ObjectStore, capture: CaptureResult, covered_key: str | None) -> None:
    """After the batch holding its delete rows is stored: a crash before this finds them again."""
    if capture.vanished is not None:
        Reconciler(ingestion_lake).save(capture.vanished, covered_key)


def _deletes(capture: CaptureResult) -> str:
    deleted = 0 if capture.vanished is None else capture.vanished.rows.height
    return f", {deleted} of them rows deleted at the source," if deleted else ""
