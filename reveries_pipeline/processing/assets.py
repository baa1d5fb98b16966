"""The processed star-schema tables, computed together from the raw batches not yet processed.

One multi-asset step reads only the pending raw batches (cost grows with the change, not the
history), transforms them with polars, stores each table through the parquet IO manager, then
commits its checkpoint. The UI still shows every table as its own asset, with its checks.
"""

import time

import polars as pl
from dagster import AssetExecutionContext, AssetKey, AssetOut, Config, MetadataValue, Output, multi_asset
from pydantic import Field

from reveries_pipeline.io_managers.parquet import read_parquet_object, write_new_parquet
from reveries_pipeline.processing import checks
from reveries_pipeline.processing.schemas import DIMENSION_TABLES, FACT_TABLES, PRIMARY_KEYS
from reveries_pipeline.processing.state import ProcessingStateStore
from reveries_pipeline.processing.transforms import SOURCE_KEY, STATE_TABLES, dim_date_range, transform
from reveries_pipeline.resources import ObjectStore, PostgresResource
from reveries_pipeline.resources.new_objects import new_batches
from reveries_pipeline.totesys.schema import TOTESYS_TABLES

PROCESSED_GROUP = "processed"
REJECTS_PREFIX = "_rejects"


def read_pending_raw(ingestion_lake: ObjectStore, checkpoint: dict[str, str]):
    """Concatenate each table's raw batches after its checkpoint; return (changes, new checkpoint, keys)."""
    changes: dict[str, pl.DataFrame] = {}
    advanced = dict(checkpoint)
    keys_read: dict[str, list[str]] = {}
    for table in TOTESYS_TABLES:
        objects = new_batches(ingestion_lake, table, checkpoint.get(table))
        if not objects:
            continue
        frames = [
            read_parquet_object(ingestion_lake, o.key).with_columns(pl.lit(o.key).alias(SOURCE_KEY)) for o in objects
        ]
        changes[table] = pl.concat(frames, how="vertical_relaxed")
        advanced[table] = objects[-1].key
        keys_read[table] = [o.key for o in objects]
    return changes, advanced, keys_read


class ProcessingConfig(Config):
    rebuild: bool = Field(
        default=False,
        description="Replay from the lake: empty the processing state, the processed tables and the "
        "warehouse first, then rebuild both from every raw batch in order (rebuild_job sets this).",
    )


def extend_dim_date(emitted: pl.DataFrame, known_dates: pl.DataFrame | None) -> pl.DataFrame:
    """Keep dim_date one contiguous range over every date ever referenced: emit only the new days
    needed to stretch the known range over this pass's dates. So an incremental history and a
    rebuild from the lake end with the same dim_date."""
    if emitted.height == 0:
        return emitted
    lo, hi = emitted["date_id"].min(), emitted["date_id"].max()
    if known_dates is not None and known_dates.height:
        lo, hi = min(lo, known_dates["date_id"].min()), max(hi, known_dates["date_id"].max())
    full = dim_date_range(lo, hi)
    if known_dates is None or known_dates.height == 0:
        return full
    return full.filter(~pl.col("date_id").is_in(known_dates["date_id"].implode()))


def reset_derived_state(processed_lake: ObjectStore, warehouse: PostgresResource) -> dict[str, int]:
    """Empty everything derived from the raw lake: processed objects, processing state, warehouse."""
    from reveries_pipeline.warehouse.schema import empty_warehouse

    deleted = {
        prefix: processed_lake.delete_prefix(f"{prefix}/") for prefix in (*checks.PROCESSED_TABLES, REJECTS_PREFIX)
    }
    deleted["_state/processing"] = ProcessingStateStore(processed_lake).reset()
    with warehouse.connection() as conn:
        empty_warehouse(conn)
    return deleted


@multi_asset(
    name="star_schema_tables",
    outs={
        table: AssetOut(
            key=AssetKey(table),
            group_name=PROCESSED_GROUP,
            io_manager_key="processed_io_manager",
            description=f"`{table}` rows changed by the latest raw batches, as parquet in the processed bucket.",
            kinds={"polars", "parquet"},
        )
        for table in checks.PROCESSED_TABLES
    },
    deps=[AssetKey(["raw", t]) for t in TOTESYS_TABLES],
    check_specs=checks.check_specs(),
)
def star_schema_tables(
    context: AssetExecutionContext,
    config: ProcessingConfig,
    ingestion_lake: ObjectStore,
    processed_lake: ObjectStore,
    warehouse: PostgresResource,
):
    started = time.perf_counter()
    if config.rebuild:
        # The processing step heads the derived chain, so it is the one that clears it for a replay.
        deleted = reset_derived_state(processed_lake, warehouse)
        context.log.warning(f"rebuild: emptied the warehouse and the processed bucket ({deleted})")
    state_store = ProcessingStateStore(processed_lake)
    state = state_store.load(STATE_TABLES, DIMENSION_TABLES)
    changes, advanced, keys_read = read_pending_raw(ingestion_lake, state.checkpoint)
    batches_read = sum(len(v) for v in keys_read.values())
    rows_read = sum(f.height for f in changes.values())
    context.log.info(
        f"processing {batches_read} new raw batches ({rows_read} rows) in {time.perf_counter() - started:.2f}s"
    )

    result = transform(changes, state.current)
    result.tables["dim_date"] = extend_dim_date(result.tables["dim_date"], state.dimension_keys.get("dim_date"))
    rejects_key = None
    if result.rejects.height:
        rejects_key, _ = write_new_parquet(processed_lake, REJECTS_PREFIX, result.rejects)
        context.log.warning(f"{result.rejects.height} source rows rejected; written to {rejects_key}")

    for table in checks.PROCESSED_TABLES:
        yield Output(
            result.tables[table],
            output_name=table,
            metadata={
                "raw_batches_read": MetadataValue.int(batches_read),
                "raw_rows_read": MetadataValue.int(rows_read),
            },
        )

    # Keys every dimension has ever emitted, for the foreign-key checks of later passes.
    known: dict[str, pl.Series] = {}
    for dim in DIMENSION_TABLES:
        key = PRIMARY_KEYS[dim][0]
        emitted = result.tables[dim].select(key)
        prior = state.dimension_keys.get(dim)
        merged = emitted if prior is None else pl.concat([prior, emitted]).unique()
        state.dimension_keys[dim] = merged
        known[dim] = merged.get_column(key)

    # Commit: the outputs above are stored, so these raw batches are done.
    state.current = result.new_state
    state.checkpoint = advanced
    state_store.save(state)
    context.log.info(
        f"processing committed: {batches_read} raw batches, {rows_read} rows read, "
        f"{sum(f.height for f in result.tables.values())} rows written, {result.rejects.height} rejected, "
        f"in {time.perf_counter() - started:.2f}s"
    )

    for table in checks.PROCESSED_TABLES:
        yield checks.rejects_check(table, result.rejects, rejects_key)
    for dim in DIMENSION_TABLES:
        yield checks.primary_key_check(dim, result.tables[dim])
    for fact in FACT_TABLES:
        yield checks.foreign_key_check(fact, result.tables[fact], known)
    yield checks.currency_check(result.unknown_currencies)
