"""The processed star-schema tables, computed together from the raw batches not yet processed.

One multi-asset step reads only the pending raw batches (cost grows with the change, not the
history), transforms them with polars, holds back the facts whose dimension keys haven't been
emitted yet, stores each table through the parquet IO manager, then commits its state (checkpoint
last). The UI still shows every table as its own asset, with its checks.
"""

import time
from collections.abc import Iterator

import polars as pl
from dagster import AssetExecutionContext, AssetKey, AssetOut, Config, MetadataValue, Output, multi_asset
from pydantic import Field

from reveries_pipeline.io_managers.parquet import OBJECT_KEY_METADATA
from reveries_pipeline.lake.batch_keys import next_batch_key
from reveries_pipeline.lake.parquet import write_new_parquet
from reveries_pipeline.processing import checks
from reveries_pipeline.processing.held import HoldBack, considered_facts, hold_back
from reveries_pipeline.processing.pending import PendingRaw, read_pending_raw
from reveries_pipeline.processing.schemas import DIMENSION_TABLES, FACT_TABLES, PRIMARY_KEYS
from reveries_pipeline.processing.state import ProcessingState, ProcessingStateStore
from reveries_pipeline.processing.transforms import ProcessingResult, dim_date_for_facts, dim_date_range, transform
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline.totesys.schema import TOTESYS_TABLES

PROCESSED_GROUP = "processed"
REJECTS_PREFIX = "_rejects"


class ProcessingConfig(Config):
    rebuild: bool = Field(
        default=False,
        description="Replay from the lake: read every raw batch first (one that can't be read fails the "
        "step before anything is deleted), then empty the processed tables, _rejects and the processing "
        "state, and remodel every raw batch in order. The warehouse stage empties the warehouse itself, "
        "in its load transaction (rebuild_job sets this).",
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


def reset_derived_state(processed_lake: ObjectStore) -> dict[str, int]:
    """Empty what processing derived from the raw lake: the processed tables, `_rejects` and the
    processing state. Returns the objects deleted per prefix. (The warehouse isn't processing's:
    its stage empties it.)"""
    deleted = {
        prefix: processed_lake.delete_prefix(f"{prefix}/") for prefix in (*checks.PROCESSED_TABLES, REJECTS_PREFIX)
    }
    deleted["_state/processing"] = ProcessingStateStore(processed_lake).reset()
    return deleted


def _merged_keys(prior: pl.DataFrame | None, emitted: pl.DataFrame, key: str) -> pl.DataFrame:
    merged = emitted if prior is None else pl.concat([prior, emitted])
    return merged.unique().sort(key)  # sorted: the same keys always make the same document


def _record_dimension_keys(state: ProcessingState, tables: dict[str, pl.DataFrame]) -> dict[str, pl.Series]:
    """Fold the keys this pass emitted into the state's keys of every non-date dimension; returns
    every key each has ever emitted."""
    known: dict[str, pl.Series] = {}
    for dim in DIMENSION_TABLES:
        if dim == "dim_date":
            continue
        key = PRIMARY_KEYS[dim][0]
        state.dimension_keys[dim] = _merged_keys(state.dimension_keys.get(dim), tables[dim].select(key), key)
        known[dim] = state.dimension_keys[dim].get_column(key)
    return known


def settle_pass(result: ProcessingResult, state: ProcessingState, checkpoint_before: dict[str, str]) -> HoldBack:
    """Hold back the facts whose dimension keys aren't emitted yet (releasing those now resolved),
    extend dim_date over every fact date seen, and fold the pass into the state (not saved here)."""
    known = _record_dimension_keys(state, result.tables)
    held = hold_back({f: result.tables[f] for f in FACT_TABLES}, state.held, known, checkpoint_before)
    result.tables.update(held.emitted)
    known_dates = state.dimension_keys.get("dim_date")
    dim_date = extend_dim_date(dim_date_for_facts(considered_facts(held)), known_dates)
    result.tables["dim_date"] = dim_date
    state.dimension_keys["dim_date"] = _merged_keys(known_dates, dim_date.select("date_id"), "date_id")
    state.held = held.held
    state.current = result.new_state
    return held


def date_ranges(dim_date: pl.DataFrame) -> list[list[str]]:
    """The emitted days as [first, last] ISO ranges of consecutive days."""
    days = dim_date.get_column("date_id").sort()
    runs = days.to_frame().with_columns(run=(days.diff().dt.total_days().fill_null(1) != 1).cum_sum())
    bounds = runs.group_by("run", maintain_order=True).agg(pl.col("date_id").min(), pl.col("date_id").max().alias("hi"))
    return [[lo.isoformat(), hi.isoformat()] for _, lo, hi in bounds.iter_rows()]


def _begin_pass(
    context: AssetExecutionContext, config: ProcessingConfig, ingestion_lake: ObjectStore, store: ProcessingStateStore
) -> tuple[PendingRaw, ProcessingState]:
    if not config.rebuild:
        state = store.load()
        return read_pending_raw(ingestion_lake, state.checkpoint), state
    # Every raw batch is read, and must be readable, before anything is deleted.
    pending = read_pending_raw(ingestion_lake, {})
    deleted = reset_derived_state(store.store)
    context.log.warning(
        f"rebuild: read all {pending.batches} raw batches, then emptied the processed tables, _rejects and the "
        f"processing state ({deleted})"
    )
    return pending, store.load()


def _last_written(passes: list[dict]) -> dict[str, str]:
    """Per processed table, the newest key the logged passes wrote."""
    last: dict[str, str] = {}
    for entry in passes:
        for key in entry["written"]:
            last[key.split("/", 1)[0]] = key
    return last


def _outputs(tables: dict[str, pl.DataFrame], pending: PendingRaw, passes: list[dict]) -> Iterator[Output]:
    """One output per table, naming the object the IO manager writes a non-empty frame to (after the
    table's previous one, even if the clock stepped back). Returns, for `yield from`, the keys written."""
    previous = _last_written(passes)
    written: list[str] = []
    for table in checks.PROCESSED_TABLES:
        metadata = {
            "raw_batches_read": MetadataValue.int(pending.batches),
            "raw_rows_read": MetadataValue.int(pending.rows),
        }
        if tables[table].height:
            written.append(next_batch_key(table, previous.get(table)))
            metadata[OBJECT_KEY_METADATA] = MetadataValue.text(written[-1])
        yield Output(tables[table], output_name=table, metadata=metadata)
    return written


def _check_results(result: ProcessingResult, held: HoldBack, rejects_key: str | None):
    for table in checks.PROCESSED_TABLES:
        yield checks.rejects_check(table, result.rejects, rejects_key)
    for dim in DIMENSION_TABLES:
        yield checks.primary_key_check(dim, result.tables[dim])
    for fact in FACT_TABLES:
        yield checks.held_check(fact, held.held[fact], held.missing.get(fact, {}))
    yield checks.currency_check(result.unknown_currencies)


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
):
    started = time.perf_counter()
    store = ProcessingStateStore(processed_lake)
    pending, state = _begin_pass(context, config, ingestion_lake, store)
    context.log.info(
        f"processing {pending.batches} new raw batches ({pending.rows} rows) in {time.perf_counter() - started:.2f}s"
    )
    result = transform(pending.changes, state.current)
    held = settle_pass(result, state, pending.checkpoint_before)
    rejects_key = None
    if result.rejects.height:
        rejects_key, _ = write_new_parquet(processed_lake, REJECTS_PREFIX, result.rejects)
        context.log.warning(f"{result.rejects.height} source rows rejected; written to {rejects_key}")
    written = yield from _outputs(result.tables, pending, state.passes)

    # Commit: the outputs above are stored, so these raw batches are done.
    if pending.batches:
        written += [rejects_key] if rejects_key else []
        state.record_pass(
            pending.checkpoint_before, written, held.released_from, date_ranges(result.tables["dim_date"])
        )
    state.checkpoint = pending.advanced
    saved = store.save(state)
    context.log.info(
        f"processing committed: {pending.batches} raw batches, {pending.rows} rows read, "
        f"{sum(f.height for f in result.tables.values())} rows written, {result.rejects.height} rejected, "
        f"{sum(f.height for f in held.held.values())} fact rows held back, {len(saved)} state documents "
        f"written, in {time.perf_counter() - started:.2f}s"
    )
    yield from _check_results(result, held, rejects_key)
