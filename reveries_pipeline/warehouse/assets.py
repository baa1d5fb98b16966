"""The warehouse tables (`warehouse/<table>`), loaded exactly once from the processed bucket.

One multi-asset step and one transaction: dimensions are stored before facts, so foreign keys hold;
each table's pending batches are applied by the warehouse IO manager with their ledger rows, and all
of it commits together after the last table. A crash anywhere leaves the warehouse as it was.
The checks run after the commit.

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
from datetime import timedelta

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetOut,
    Config,
    Failure,
    FreshnessPolicy,
    MetadataValue,
    Output,
    multi_asset,
)
from pydantic import Field

from reveries_pipeline.io_managers.warehouse import PendingLoad
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.warehouse import checks
from reveries_pipeline.warehouse.locks import DEFAULT_LOCK_TIMEOUT_S, WarehouseLockTimeout, lock_warehouse
from reveries_pipeline.warehouse.schema import (
    FACT_TABLES,
    WAREHOUSE_TABLES,
    ensure_warehouse_schema,
    schema_version,
    truncate_warehouse,
)

WAREHOUSE_GROUP = "warehouse"

# The promise: a change in the source is in the warehouse within 30 minutes (10-minute polling,
# then the two sensor hops). Past 20 minutes without a load the UI warns; past 30 it fails.
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


@multi_asset(
    name="warehouse_tables",
    outs={
        table: AssetOut(
            key=checks.wkey(table),
            group_name=WAREHOUSE_GROUP,
            io_manager_key="warehouse_io_manager",
            description=f"The `{table}` table of the PostgreSQL star-schema warehouse.",
            kinds={"postgres"},
            freshness_policy=WAREHOUSE_FRESHNESS,
        )
        for table in WAREHOUSE_TABLES
    },
    deps=[AssetKey(t) for t in WAREHOUSE_TABLES],
    check_specs=checks.check_specs(),
)
def warehouse_tables(
    context: AssetExecutionContext,
    config: WarehouseLoadConfig,
    processed_lake: ObjectStore,
    warehouse: PostgresResource,
    totesys: PostgresResource,
):
    started = time.perf_counter()
    timeout = config.lock_timeout_seconds
    try:
        with warehouse.connection() as conn:
            if ensure_warehouse_schema(conn, timeout):
                context.log.info(f"warehouse schema created or migrated to ddl.sql version {schema_version()[:12]}")
        with warehouse.connection() as load_transaction:
            lock_warehouse(load_transaction)  # first: a concurrent load finishes, then its batches are skipped
            if config.rebuild:
                truncate_warehouse(load_transaction, timeout)
                context.log.warning(
                    "rebuild: warehouse emptied inside the load transaction; it commits with the reload"
                )
            before = checks.max_record_ids(load_transaction)  # checks then look only at what this run adds
            for table in WAREHOUSE_TABLES:  # dimensions first
                yield Output(PendingLoad(table, processed_lake, load_transaction, timeout), output_name=table)
    except WarehouseLockTimeout as exc:
        pids = [b.pid for b in exc.blockers]
        raise Failure(description=str(exc), metadata={"blocking_pids": MetadataValue.json(pids)}) from exc
    context.log.info(f"warehouse load committed in {time.perf_counter() - started:.2f}s")

    with warehouse.connection(read_only=True) as wh, totesys.connection(read_only=True) as src:
        for table in checks.RECONCILED:
            yield checks.reconciliation(wh, src, table)
        for fact in FACT_TABLES:
            yield checks.orphan_keys(wh, fact, before[fact])
            yield checks.current_view(wh, fact, before[fact])
