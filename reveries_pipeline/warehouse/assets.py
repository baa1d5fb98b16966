"""The warehouse tables (`warehouse/<table>`), loaded exactly once from the processed bucket.

One multi-asset step and one transaction. A load is a multi-table transaction, so the asset writes
through the warehouse resource itself (no IO manager) and reports a MaterializeResult per table.
Tables load in catalog order, dimensions before facts (so foreign keys hold), then the deletion
markers; each table's pending batches are applied with their ledger rows, and all of it commits
together after the last table.
A crash anywhere leaves the warehouse as it was. The materializations and the checks follow the commit.
Row counts and reconciled counts are taken in the load transaction from what changed (count_cache.py),
so an idle load reads no history; the source's rows, which the reconciliation compares them with, are
counted on a second connection while the load runs.

Before the load, the schema is created or migrated only if its recorded version is not ddl.sql's
(one SELECT otherwise). The load transaction first takes the warehouse's writer lock, so a second
load waits, then finds the first one's batches in the ledger. In steady state the load takes no lock
a reader conflicts with. With `rebuild`, it TRUNCATEs the warehouse inside that same transaction and
loads every processed batch: no reader ever sees it empty or half-loaded (TRUNCATE's locks make one
that starts meanwhile wait for the commit), and a failure anywhere leaves the old warehouse intact.
A strong lock that isn't granted within `lock_timeout_seconds` fails the step with a Failure naming
the sessions in the way (see locks.py).
"""

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import psycopg
from dagster import (
    AssetExecutionContext,
    AssetSpec,
    Config,
    Failure,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)
from pydantic import Field

from reveries_pipeline.asset_keys import WAREHOUSE_GROUP, processed_key, warehouse_key
from reveries_pipeline.catalog import DELETED_ROWS
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.resources.secrets import scrub, scrubbed_exception
from reveries_pipeline.warehouse import checks, count_cache
from reveries_pipeline.warehouse.loader import apply_pending
from reveries_pipeline.warehouse.locks import DEFAULT_LOCK_TIMEOUT_S, WarehouseLockTimeout, lock_warehouse
from reveries_pipeline.warehouse.schema import (
    WAREHOUSE_TABLES,
    ensure_warehouse_schema,
    schema_version,
    truncate_warehouse,
)
from reveries_pipeline.warehouse.table_metadata import load_metadata, table_metadata

# The promise: a change in the source is in the warehouse within 30 minutes (10-minute polling,
# then the two sensor hops). Past 20 minutes without a load the UI warns; past 30 it fails.
# What a load reports exactly without counting histories: each table's rows, each reconciled table's live rows.
COUNTED = [
    *(count_cache.table_rows(table) for table in WAREHOUSE_TABLES),
    *(checks.live_rows_measure(table) for table in checks.RECONCILED),
]

WAREHOUSE_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(minutes=30), warn_window=timedelta(minutes=20))


class WarehouseLoadConfig(Config):
    rebuild: bool = Field(
        default=False,
        description="Replay the processed bucket into an emptied warehouse: TRUNCATE every warehouse table "
        "and the load ledger (record ids restart) inside the load transaction, then load every processed "
        "batch and commit once. No reader sees it empty or half-loaded (one that starts meanwhile waits for "
        "the commit); a failure anywhere leaves the old warehouse intact (rebuild_job sets this).",
    )
    lock_timeout_seconds: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_S,
        gt=0,
        description="How long a statement that needs a lock readers hold off waits for it: schema creation "
        "or migration and a rebuild's TRUNCATE then fail, naming the sessions in the way; a large load "
        "keeps its foreign keys in place instead of dropping and re-adding them. Never applies to one "
        "load waiting for another.",
    )


def _description(table: str) -> str:
    if table == DELETED_ROWS.name:
        return (
            f"`{table}`: one deletion marker per deleted source version, beside the star schema. The "
            "fact_*_current views hide the version a marker names; a marked dimension row stays."
        )
    return f"The `{table}` table of the PostgreSQL star-schema warehouse."


@multi_asset(
    name="warehouse_tables",
    specs=[
        AssetSpec(
            warehouse_key(table),
            deps=[processed_key(table)],
            group_name=WAREHOUSE_GROUP,
            description=_description(table),
            kinds={"postgres"},
            freshness_policy=WAREHOUSE_FRESHNESS,
        )
        for table in WAREHOUSE_TABLES
    ],
    check_specs=checks.check_specs(),
)
def warehouse_tables(
    context: AssetExecutionContext,
    config: WarehouseLoadConfig,
    processed_lake: ObjectStore,
    warehouse: PostgresResource,
    totesys: PostgresResource,
):
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="source-count") as beside:
        # The source's rows are the one count a reconciliation can't read from a summary: counted
        # while the warehouse loads, off the step's path.
        source_rows = beside.submit(_count_source_rows, totesys)
        yield from _load_and_check(context, config, processed_lake, warehouse, source_rows)


def _count_source_rows(totesys: PostgresResource) -> dict[str, int]:
    with totesys.connection(read_only=True) as src:
        return checks.source_row_counts(src)


def _load_and_check(
    context: AssetExecutionContext,
    config: WarehouseLoadConfig,
    processed_lake: ObjectStore,
    warehouse: PostgresResource,
    source_rows: Future[dict[str, int]],
):
    """The load transaction, then one MaterializeResult per table, then the checks."""
    started = time.perf_counter()
    timeout = config.lock_timeout_seconds
    try:
        with warehouse.connection() as conn:
            if ensure_warehouse_schema(conn, timeout):
                context.log.info(f"warehouse schema created or migrated to ddl.sql version {schema_version()[:12]}")
        with _load_transaction(warehouse) as conn:
            lock_warehouse(conn)  # first: a concurrent load finishes, then its batches are skipped
            if config.rebuild:
                truncate_warehouse(conn, timeout)
                context.log.warning(
                    "rebuild: warehouse emptied inside the load transaction; it commits with the reload"
                )
            before = checks.max_record_ids(conn)  # checks then look only at what this run adds
            start = count_cache.load_start(conn, COUNTED)
            loaded = {table: _load_table(context, conn, processed_lake, table, timeout) for table in WAREHOUSE_TABLES}
            counts = count_cache.exact_counts(conn, COUNTED, start, before)
    except WarehouseLockTimeout as exc:
        pids = [b.pid for b in exc.blockers]
        raise Failure(
            description=scrub(str(exc)), metadata={"blocking_pids": MetadataValue.json(pids)}
        ) from scrubbed_exception(exc)
    context.log.info(f"warehouse load committed in {time.perf_counter() - started:.2f}s")

    with warehouse.connection(read_only=True) as wh:  # after the commit: a rebuild's locks are gone
        described = {table: table_metadata(wh, table, counts[f"rows:{table}"]) for table in WAREHOUSE_TABLES}
    for table in WAREHOUSE_TABLES:
        yield MaterializeResult(asset_key=warehouse_key(table), metadata={**loaded[table], **described[table]})

    live = {table: counts[f"live:{table}"] for table in checks.RECONCILED}
    with warehouse.connection(read_only=True) as wh:
        results = list(checks.evaluate_checks(wh, before, live, source_rows.result()))
    yield from results  # once their transactions have ended


@contextmanager
def _load_transaction(warehouse: PostgresResource) -> Iterator[psycopg.Connection]:
    """The load's one transaction, committed when the block ends.

    On any error the connection is closed, not only rolled back: whatever state an error or a run
    termination left the session in, a closed one holds no locks (a rebuild's TRUNCATE locks would
    otherwise keep readers waiting).
    """
    with warehouse.connection() as conn:
        try:
            yield conn
        except BaseException:
            conn.close()
            raise


def _load_table(
    context: AssetExecutionContext, conn: psycopg.Connection, store: ObjectStore, table: str, lock_timeout_s: float
) -> dict[str, MetadataValue]:
    """Apply `table`'s pending batches inside the load transaction, log what happened; the load's metadata."""
    started = time.perf_counter()
    result = apply_pending(conn, store, table, lock_timeout_s)
    seconds = time.perf_counter() - started
    if result.kept_foreign_keys_because:
        context.log.warning(result.kept_foreign_keys_because)
    if result.batches_applied or result.batches_skipped:  # nothing new: the metadata says so, no log event
        context.log.info(
            f"warehouse/{table}: applied {len(result.batches_applied)} batches ({result.rows_loaded} rows), "
            f"skipped {len(result.batches_skipped)} already loaded, in {seconds:.2f}s"
        )
    return load_metadata(result, seconds)
