"""The processed star-schema tables, computed together from the raw batches not yet processed.

One multi-asset step reads only the pending raw batches (cost grows with the change, not the
history), one table at a time (pending.py), transforms them with polars, holds back the facts whose
dimension keys haven't been emitted yet, stores each table through the parquet IO manager, then
commits its state (checkpoint last). The UI still shows every table as its own asset,
`processed/<table>`, with its checks.
"""

import datetime
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from dagster import AssetExecutionContext, AssetOut, Config, MetadataValue, Output, multi_asset
from pydantic import Field, model_validator

from reveries_pipeline.asset_keys import PROCESSED_GROUP, processed_key, raw_key
from reveries_pipeline.catalog import (
    DELETED_ROWS,
    DIMENSION_TABLES,
    FACT_TABLES,
    PROCESSED_TABLE_NAMES,
    SOURCE_TABLE_NAMES,
    STAR_TABLE_NAMES,
)
from reveries_pipeline.lake.object_names import OBJECT_KEY_METADATA, next_batch_key
from reveries_pipeline.processing import checks
from reveries_pipeline.processing.derived_state import reset_derived_state, write_rejects
from reveries_pipeline.processing.dim_date import date_ranges
from reveries_pipeline.processing.held import HoldBack
from reveries_pipeline.processing.modelling import ModelledPass, model_pass
from reveries_pipeline.processing.pass_log import PassRecord, last_written
from reveries_pipeline.processing.pending import PendingRaw, read_pending_raw
from reveries_pipeline.processing.schemas import column_schema
from reveries_pipeline.processing.state import ProcessingState, ProcessingStateStore
from reveries_pipeline.processing.validation import DateWindow
from reveries_pipeline.resources import ObjectStore

# Dagster's standard metadata keys, which the catalog shows in its columns and row-count views.
COLUMN_SCHEMA = "dagster/column_schema"
ROW_COUNT = "dagster/row_count"


class ProcessingConfig(Config):
    rebuild: bool = Field(
        default=False,
        description="Replay from the lake: read every raw batch first (one that can't be read fails the "
        "step before anything is deleted), then empty the processed tables, _rejects and the processing "
        "state, and remodel every raw batch in order. The warehouse stage empties the warehouse itself, "
        "in its load transaction (rebuild_job sets this).",
    )
    earliest_business_date: str = Field(
        default=str(DateWindow.earliest),
        description="ISO date: a row with an earlier date (a timestamp's day, or a text date) is rejected.",
    )
    rows_per_range: int = Field(
        default=500_000,
        ge=1,
        description="A pending raw table with more rows than this (an initial load, a rebuild) is modelled "
        "one primary-key range of about this many rows at a time, its tables spooled to local disk: memory "
        "holds one range, never the whole table. Lower it on a small run task; a smaller pass is modelled at once.",
    )
    latest_business_date: str = Field(
        default=str(DateWindow.latest),
        description="ISO date: a row with a later date is rejected (a year 2999 would stretch dim_date).",
    )

    @model_validator(mode="after")
    def _valid_date_window(self):
        self.date_window()  # raises ValueError naming the bad field or the empty window
        return self

    def date_window(self) -> DateWindow:
        bounds = {}
        for name in ("earliest_business_date", "latest_business_date"):
            try:
                bounds[name] = datetime.date.fromisoformat(getattr(self, name))
            except ValueError:
                raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD), not {getattr(self, name)!r}") from None
        return DateWindow(bounds["earliest_business_date"], bounds["latest_business_date"])


def _description(table: str) -> str:
    if table == DELETED_ROWS.name:
        return (
            "Deletion markers from the latest raw batches (star table, natural id, deleted version), "
            "as parquet in the processed bucket."
        )
    return f"`{table}` rows changed by the latest raw batches, as parquet in the processed bucket."


def _table_out(table: str) -> AssetOut:
    return AssetOut(
        key=processed_key(table),
        group_name=PROCESSED_GROUP,
        io_manager_key="processed_io_manager",
        description=_description(table),
        kinds={"polars", "parquet"},
        # definition metadata: the catalog shows the columns before the first run
        metadata={COLUMN_SCHEMA: MetadataValue.table_schema(column_schema(table))},
    )


def _begin_pass(
    context: AssetExecutionContext, config: ProcessingConfig, ingestion_lake: ObjectStore, store: ProcessingStateStore
) -> tuple[PendingRaw, ProcessingState]:
    """The pending raw batches (listed: the transforms read them a table at a time), and the state
    to process them against."""
    started = time.perf_counter()
    if config.rebuild:
        # Every raw batch is read, and must be readable, before anything is deleted (then read again,
        # a table at a time, by the transforms: reading twice keeps memory to one batch here).
        pending = read_pending_raw(ingestion_lake, {})
        pending.check_readable()
        deleted = reset_derived_state(store.store)
        context.log.warning(
            f"rebuild: read all {pending.batches} raw batches, then emptied the processed tables, _rejects and "
            f"the processing state ({deleted})"
        )
        state = store.load()
    else:
        state = store.load()
        pending = read_pending_raw(ingestion_lake, state.checkpoint)
    context.log.info(f"processing {pending.batches} new raw batches (listed in {time.perf_counter() - started:.2f}s)")
    return pending, state


def _outputs(modelled: ModelledPass, pending: PendingRaw, passes: list[PassRecord]) -> Iterator[Output]:
    """One output per table, naming the object the IO manager writes a non-empty frame to (after the
    table's previous one, even if the clock stepped back). Returns, for `yield from`, the keys written."""
    previous = last_written(passes)
    written: list[str] = []
    for table in PROCESSED_TABLE_NAMES:
        metadata = {
            "raw_batches_read": MetadataValue.int(pending.batches),
            "raw_rows_read": MetadataValue.int(pending.rows),
            ROW_COUNT: MetadataValue.int(modelled.heights[table]),
            COLUMN_SCHEMA: MetadataValue.table_schema(column_schema(table)),
        }
        if modelled.heights[table]:
            written.append(next_batch_key(table, previous.get(table)))
            metadata[OBJECT_KEY_METADATA] = MetadataValue.text(written[-1])
        yield Output(modelled.tables[table], output_name=table, metadata=metadata)
    return written


def _commit(
    store: ProcessingStateStore,
    state: ProcessingState,
    pending: PendingRaw,
    written: list[str],
    held: HoldBack,
    dim_date: pl.DataFrame,
) -> list[str]:
    """Once the outputs are stored: log the pass (if it read any raw batch) and save the state,
    checkpoint last, so these raw batches are done. Returns the state documents written."""
    record = None
    if pending.batches:
        record = PassRecord.now(pending.checkpoint_before, written, held.released_from, date_ranges(dim_date))
    state.finish_pass(pending.advanced, record)
    return store.save(state)


def _summary(pending: PendingRaw, modelled: ModelledPass, saved: list[str], seconds: float) -> str:
    written = sum(modelled.heights[table] for table in STAR_TABLE_NAMES)
    in_parts = f" in {modelled.sub_passes} key-range parts" if modelled.sub_passes > 1 else ""
    return (
        f"processing committed: {pending.batches} raw batches, {pending.rows} rows read{in_parts}, "
        f"{written} rows written, {modelled.heights[DELETED_ROWS.name]} deletion markers, "
        f"{modelled.rejects.height} rejected, {sum(f.height for f in modelled.held.held.values())} fact rows "
        f"held back, {len(saved)} state documents written, in {seconds:.2f}s"
    )


def _check_results(modelled: ModelledPass, rejects_key: str | None):
    for table in STAR_TABLE_NAMES:
        yield checks.rejects_check(table, modelled.rejects, rejects_key)
    for dim in DIMENSION_TABLES:
        yield checks.primary_key_check(dim, modelled.tables[dim])
    for fact in FACT_TABLES:
        yield checks.held_check(fact, modelled.held.held[fact], modelled.held.missing.get(fact, {}))
    yield checks.currency_check(modelled.unknown_currencies)


@multi_asset(
    name="star_schema_tables",
    outs={table: _table_out(table) for table in PROCESSED_TABLE_NAMES},
    deps=[raw_key(t) for t in SOURCE_TABLE_NAMES],
    check_specs=checks.check_specs(),
)
def star_schema_tables(
    context: AssetExecutionContext,
    config: ProcessingConfig,
    ingestion_lake: ObjectStore,
    processed_lake: ObjectStore,
):
    """One pass: model the pending raw batches, store every table, then commit (see the module docstring)."""
    started = time.perf_counter()
    store = ProcessingStateStore(processed_lake)
    pending, state = _begin_pass(context, config, ingestion_lake, store)
    with tempfile.TemporaryDirectory(prefix="reveries-pass-") as spool:
        modelled = model_pass(pending, state, config.date_window(), Path(spool), config.rows_per_range)
        rejects_key = write_rejects(processed_lake, modelled.rejects)
        if rejects_key:
            context.log.warning(f"{modelled.rejects.height} source rows rejected; written to {rejects_key}")
        written = yield from _outputs(modelled, pending, state.passes)
        if rejects_key:
            written.append(rejects_key)
        saved = _commit(store, state, pending, written, modelled.held, modelled.dim_date)
        context.log.info(_summary(pending, modelled, saved, time.perf_counter() - started))
        yield from _check_results(modelled, rejects_key)  # a spooled dimension is checked from its spool
