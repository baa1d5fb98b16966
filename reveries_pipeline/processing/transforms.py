"""Stage 2 transforms: raw totesys change batches -> star-schema tables.

Pure functions over polars frames (no I/O). ``transform`` takes one pass of pending raw changes plus
the current state of the tables that dimensions join through, and returns the processed rows that
changed in this pass, the rows it had to reject, and the new state. It asks for each raw table once
and models it before asking for the next (the asset's mapping reads a table only then: pending.py),
and lets go of each fact's source rows once the fact is built, so a pass holds one raw table at a
time and never a large frame twice.

- Facts keep history: one row per captured source version (natural id, last_updated), two updates
  of a row in one pass included.
- Deletes (and replays of a change) are taken out first (deletions.py): a delete becomes a deletion
  marker (`deleted_rows`), never a row to validate.
- Dimensions carry the latest values per natural key and are emitted only for keys that changed in
  this pass, including changes that arrive only through a joined table (an address edit re-emits
  dim_location and every dim_counterparty on that address; a department edit re-emits dim_staff for
  all its staff).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.catalog import FACT_TABLES, STAR_TABLES
from reveries_pipeline.processing.currencies import currency_lookup_frame
from reveries_pipeline.processing.deletions import SplitChanges
from reveries_pipeline.processing.dim_date import dim_date_for_facts
from reveries_pipeline.processing.raw_schemas import PRIMARY_KEY, RAW_SCHEMAS, SOURCE_KEY, raw_frame
from reveries_pipeline.processing.schemas import DELETED_ROWS_SCHEMA, TARGET_SCHEMAS, as_target
from reveries_pipeline.processing.validation import (
    DateWindow,
    combined_rejects,
    no_rejects,
    reject_rows,
    validate_table,
)

# The source tables dimensions join through: their latest row per key is kept between passes.
STATE_TABLES: tuple[str, ...] = ("address", "department", "staff", "counterparty")

_UNKNOWN_LOCATION = "Unknown"


@dataclass
class ProcessingResult:
    tables: dict[str, pl.DataFrame]
    rejects: pl.DataFrame = field(default_factory=no_rejects)
    unknown_currencies: list[str] = field(default_factory=list)
    new_state: dict[str, pl.DataFrame] = field(default_factory=dict)
    deleted_rows: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=DELETED_ROWS_SCHEMA))


# --------------------------------------------------------------------------------------------------
# helpers


def _latest(frames: Iterable[pl.DataFrame], pk: str) -> pl.DataFrame:
    """Latest row per pk (by last_updated; on a tie the later frame/row wins)."""
    combined = pl.concat(list(frames), how="vertical")
    # sorted, a pk's rows are adjacent: keeping its last is a filter, which copies nothing more
    return combined.sort([pk, "last_updated"], maintain_order=True).filter(pl.col(pk).is_last_distinct())


def _time(column: str) -> pl.Expr:
    return pl.col(column).dt.time()


def _date(column: str) -> pl.Expr:
    return pl.col(column).dt.date()


# --------------------------------------------------------------------------------------------------
# facts

# Source columns a fact renames; every other target column has its source column's name.
_FACT_RENAMES: dict[str, dict[str, str]] = {"fact_sales_order": {"staff_id": "sales_staff_id"}}


def _fact(name: str, rows: pl.DataFrame) -> pl.DataFrame:
    """One fact row per validated source version (natural id, last_updated), in input order: the
    audit timestamps split into date and time, the rest carried across."""
    time_column = STAR_TABLES[name].key[2]  # last_updated_time, or fact_payment's last_updated
    audit = [
        _date("created_at").alias("created_date"),
        _time("created_at").alias("created_time"),
        _date("last_updated").alias("last_updated_date"),
        _time("last_updated").alias(time_column),
    ]
    return as_target(name, rows.with_columns(audit).rename(_FACT_RENAMES.get(name, {})))


# --------------------------------------------------------------------------------------------------
# dimensions


def _with_changed(frame: pl.DataFrame, pk: str, changed: pl.Series) -> pl.DataFrame:
    return frame.filter(pl.col(pk).is_in(changed.implode()))


def _merge_state(
    valid: dict[str, pl.DataFrame], state: dict[str, pl.DataFrame]
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.Series]]:
    """Per state table: the latest row per key (prior state merged with this pass's rows), and the
    keys this pass changed."""
    latest: dict[str, pl.DataFrame] = {}
    changed: dict[str, pl.Series] = {}
    for table in STATE_TABLES:
        pk = PRIMARY_KEY[table]
        prior = raw_frame(table, state.get(table), with_source_key=False).with_columns(
            pl.lit(None, dtype=pl.String).alias(SOURCE_KEY)
        )
        prior = prior.filter(pl.col(pk).is_not_null() & pl.col("last_updated").is_not_null())
        latest[table] = _latest([prior, valid[table]], pk)
        changed[table] = valid[table].get_column(pk).unique()
    return latest, changed


def _join_parent(
    table: str, rows: pl.DataFrame, parent: pl.DataFrame, on: str, reason: pl.Expr
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``rows`` of ``table`` joined to their parent's columns, and the rows whose parent is missing,
    as rejects. The row stays in the state, so it is emitted once its parent arrives."""
    joined = rows.join(parent.with_columns(pl.lit(True).alias("__found")), on=on, how="left")
    missing = pl.col("__found").is_null()
    return joined.filter(~missing), reject_rows(table, joined.filter(missing), reason)


def _dim_location(latest: dict[str, pl.DataFrame], changed: dict[str, pl.Series]) -> pl.DataFrame:
    address = _with_changed(latest["address"], "address_id", changed["address"])
    return as_target("dim_location", address.rename({"address_id": "location_id"}))


def _dim_counterparty(
    latest: dict[str, pl.DataFrame], changed: dict[str, pl.Series]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Counterparties that changed, or whose legal address changed; and those whose address is missing."""
    rows = latest["counterparty"].filter(
        pl.col("counterparty_id").is_in(changed["counterparty"].implode())
        | pl.col("legal_address_id").is_in(changed["address"].implode())
    )
    addr = latest["address"].select(
        pl.col("address_id").alias("legal_address_id"),
        pl.col("address_line_1").alias("counterparty_legal_address_line_1"),
        pl.col("address_line_2").alias("counterparty_legal_address_line_2"),
        pl.col("district").alias("counterparty_legal_district"),
        pl.col("city").alias("counterparty_legal_city"),
        pl.col("postal_code").alias("counterparty_legal_postal_code"),
        pl.col("country").alias("counterparty_legal_country"),
        pl.col("phone").alias("counterparty_legal_phone_number"),
    )
    reason = pl.format("legal_address_id: address {} not found", pl.col("legal_address_id"))
    found, rejects = _join_parent("counterparty", rows, addr, "legal_address_id", reason)
    return as_target("dim_counterparty", found), rejects


def _dim_staff(latest: dict[str, pl.DataFrame], changed: dict[str, pl.Series]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Staff that changed, or whose department changed; and those whose department is missing."""
    rows = latest["staff"].filter(
        pl.col("staff_id").is_in(changed["staff"].implode())
        | pl.col("department_id").is_in(changed["department"].implode())
    )
    dept = latest["department"].select(
        "department_id",
        "department_name",
        pl.col("location").fill_null(_UNKNOWN_LOCATION),
    )
    reason = pl.format("department_id: department {} not found", pl.col("department_id"))
    found, rejects = _join_parent("staff", rows, dept, "department_id", reason)
    return as_target("dim_staff", found), rejects


def _dim_currency(valid: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, list[str]]:
    """The latest version of each changed currency, named from ISO 4217; and the unknown codes."""
    currency = _latest([valid["currency"]], "currency_id").with_columns(
        pl.col("currency_code").str.strip_chars().str.to_uppercase().alias("__code")
    )
    currency = currency.join(currency_lookup_frame().rename({"currency_code": "__code"}), on="__code", how="left")
    unknown = sorted(currency.filter(pl.col("currency_name").is_null()).get_column("__code").unique().to_list())
    currency = currency.with_columns(
        pl.col("currency_name").fill_null(pl.format("Unknown currency {}", pl.col("__code")))
    )
    return as_target("dim_currency", currency), unknown


def _plain_dimensions(valid: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Dimensions without joins: the latest version in this pass."""
    return {
        "dim_design": as_target("dim_design", _latest([valid["design"]], "design_id")),
        "dim_payment_type": as_target("dim_payment_type", _latest([valid["payment_type"]], "payment_type_id")),
        "dim_transaction": as_target("dim_transaction", _latest([valid["transaction"]], "transaction_id")),
    }


def _facts(valid: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Every fact, each source's valid rows let go of (popped) as its fact is built: the largest
    frames of a pass aren't held twice."""
    return {fact: _fact(fact, valid.pop(STAR_TABLES[fact].sources[0])) for fact in FACT_TABLES}


def _in_target_order(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Dimensions sorted by key; every table in TARGET_SCHEMAS order."""
    return {
        name: tables[name] if STAR_TABLES[name].is_fact else tables[name].sort(STAR_TABLES[name].natural_id)
        for name in TARGET_SCHEMAS
    }


BUSINESS_DATES = DateWindow()  # the default window: 1900-01-01..2100-12-31


def _valid_changes(
    changes: Mapping[str, pl.DataFrame], window: DateWindow
) -> tuple[dict[str, pl.DataFrame], SplitChanges, list[pl.DataFrame]]:
    """Every raw table's valid rows of this pass (a table without changes: none), its deletes taken
    out first, and the rows validation rejects (in RAW_SCHEMAS order). One table at a time: its raw
    rows are let go of before the next table is read (`changes` may read it only now: pending.py)."""
    split = SplitChanges()
    checked: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
    for table in changes:
        checked[table] = validate_table(table, split.take_out(table, changes[table]), window)
    for table in RAW_SCHEMAS:
        if table not in checked:
            checked[table] = validate_table(table, None, window)
    valid = {table: checked[table][0] for table in RAW_SCHEMAS}
    return valid, split, [checked[table][1] for table in RAW_SCHEMAS if checked[table][1].height]


def transform(
    changes: Mapping[str, pl.DataFrame], state: dict[str, pl.DataFrame], window: DateWindow = BUSINESS_DATES
) -> ProcessingResult:
    """One processing pass: see the module docstring. Dates outside `window` are rejected."""
    valid, split, rejects = _valid_changes(changes, window)
    latest, changed = _merge_state(valid, state)
    counterparty, counterparty_rejects = _dim_counterparty(latest, changed)
    staff, staff_rejects = _dim_staff(latest, changed)
    currency, unknown = _dim_currency(valid)
    tables = {
        "dim_location": _dim_location(latest, changed),
        "dim_counterparty": counterparty,
        "dim_staff": staff,
        "dim_currency": currency,
        **_plain_dimensions(valid),
        **_facts(valid),
    }
    tables["dim_date"] = dim_date_for_facts(tables)
    new_state = {table: latest[table].drop(SOURCE_KEY).sort(PRIMARY_KEY[table]) for table in STATE_TABLES}
    return ProcessingResult(
        tables=_in_target_order(tables),
        rejects=combined_rejects([*split.rejects, *rejects, counterparty_rejects, staff_rejects]),
        unknown_currencies=unknown,
        new_state=new_state,
        deleted_rows=split.deletion_markers(),
    )
