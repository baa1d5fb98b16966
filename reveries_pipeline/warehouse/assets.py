"""The warehouse tables (`warehouse/<table>`), loaded exactly once from the processed bucket.

One multi-asset step and one transaction: dimensions are stored before facts, so foreign keys hold;
each table's pending batches are applied by the warehouse IO manager with their ledger rows, and all
of it commits together after the last table. A crash anywhere leaves the warehouse as it was.
The checks run after the commit.
"""

import time
from datetime import timedelta

from dagster import AssetExecutionContext, AssetKey, AssetOut, FreshnessPolicy, Output, multi_asset

from reveries_pipeline.io_managers.warehouse import PendingLoad
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.warehouse import checks
from reveries_pipeline.warehouse.schema import FACT_TABLES, WAREHOUSE_TABLES, apply_warehouse_ddl

WAREHOUSE_GROUP = "warehouse"

# The promise: a change in the source is in the warehouse within 30 minutes (10-minute polling,
# then the two sensor hops). Past 20 minutes without a load the UI warns; past 30 it fails.
WAREHOUSE_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(minutes=30), warn_window=timedelta(minutes=20))


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
    processed_lake: ObjectStore,
    warehouse: PostgresResource,
    totesys: PostgresResource,
):
    started = time.perf_counter()
    with warehouse.connection() as conn:
        apply_warehouse_ddl(conn)  # idempotent: creates what is absent, keeps a pre-built warehouse
        before = checks.max_record_ids(conn)  # checks then look only at what this run adds
    with warehouse.connection() as load_transaction:
        for table in WAREHOUSE_TABLES:  # dimensions first
            yield Output(PendingLoad(table, processed_lake, load_transaction), output_name=table)
    context.log.info(f"warehouse load committed in {time.perf_counter() - started:.2f}s")

    with warehouse.connection(read_only=True) as wh, totesys.connection(read_only=True) as src:
        for table in checks.RECONCILED:
            yield checks.reconciliation(wh, src, table)
        for fact in FACT_TABLES:
            yield checks.orphan_keys(wh, fact, before[fact])
            yield checks.current_view(wh, fact, before[fact])
