"""Stage 2 transforms: raw totesys change batches -> star-schema tables.

Pure functions over polars frames (no I/O). ``transform`` takes one pass of pending raw changes plus
the current state of the tables that dimensions join through, and returns the processed rows that
changed in this pass, the rows it had to reject, and the new state.

- Facts keep history: one row per captured source version (natural id, last_updated).
- Dimensions carry the latest values per natural key and are emitted only for keys that changed in
  this pass, including changes that arrive only through a joined table (an address edit re-emits
  dim_location and every dim_counterparty on that address; a department edit re-emits dim_staff for
  all its staff).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from reveries_pipeline.processing.currencies import currency_lookup_frame
from reveries_pipeline.processing.schemas import TARGET_SCHEMAS

STATE_TABLES: tuple[str, ...] = ("address", "department", "staff", "counterparty")

SOURCE_KEY = "_source_key"
# Per raw row, why a value couldn't be read without loss (conform.py); a non-null note rejects the row.
CONFORM_PROBLEM = "_conform_problem"

_I = pl.Int32
_S = pl.String
_TS = pl.Datetime("ms")
_MONEY = pl.Decimal(10, 2)

# The raw (source) schemas, as reveries_pipeline/totesys/ddl.sql has them.
RAW_SCHEMAS: dict[str, pl.Schema] = {
    "address": pl.Schema(
        {
            "address_id": _I,
            "address_line_1": _S,
            "address_line_2": _S,
            "district": _S,
            "city": _S,
            "postal_code": _S,
            "country": _S,
            "phone": _S,
            "created_at": _TS,
            "last_updated": _TS,
        }
    ),
    "counterparty": pl.Schema(
        {
            "counterparty_id": _I,
            "counterparty_legal_name": _S,
            "legal_address_id": _I,
            "commercial_contact": _S,
            "delivery_contact": _S,
            "created_at": _TS,
            "last_updated": _TS,
        }
    ),
    "currency": pl.Schema({"currency_id": _I, "currency_code": _S, "created_at": _TS, "last_updated": _TS}),
    "department": pl.Schema(
        {
            "department_id": _I,
            "department_name": _S,
            "location": _S,
            "manager": _S,
            "created_at": _TS,
            "last_updated": _TS,
        }
    ),
    "design": pl.Schema(
        {
            "design_id": _I,
            "created_at": _TS,
            "design_name": _S,
            "file_location": _S,
            "file_name": _S,
            "last_updated": _TS,
        }
    ),
    "payment_type": pl.Schema({"payment_type_id": _I, "payment_type_name": _S, "created_at": _TS, "last_updated": _TS}),
    "staff": pl.Schema(
        {
            "staff_id": _I,
            "first_name": _S,
            "last_name": _S,
            "department_id": _I,
            "email_address": _S,
            "created_at": _TS,
            "last_updated": _TS,
        }
    ),
    "sales_order": pl.Schema(
        {
            "sales_order_id": _I,
            "created_at": _TS,
            "last_updated": _TS,
            "design_id": _I,
            "staff_id": _I,
            "counterparty_id": _I,
            "units_sold": _I,
            "unit_price": _MONEY,
            "currency_id": _I,
            "agreed_delivery_date": _S,
            "agreed_payment_date": _S,
            "agreed_delivery_location_id": _I,
        }
    ),
    "purchase_order": pl.Schema(
        {
            "purchase_order_id": _I,
            "created_at": _TS,
            "last_updated": _TS,
            "staff_id": _I,
            "counterparty_id": _I,
            "item_code": _S,
            "item_quantity": _I,
            "item_unit_price": _MONEY,
            "currency_id": _I,
            "agreed_delivery_date": _S,
            "agreed_payment_date": _S,
            "agreed_delivery_location_id": _I,
        }
    ),
    "transaction": pl.Schema(
        {
            "transaction_id": _I,
            "transaction_type": _S,
            "sales_order_id": _I,
            "purchase_order_id": _I,
            "created_at": _TS,
            "last_updated": _TS,
        }
    ),
    "payment": pl.Schema(
        {
            "payment_id": _I,
            "created_at": _TS,
            "last_updated": _TS,
            "transaction_id": _I,
            "counterparty_id": _I,
            "payment_amount": _MONEY,
            "currency_id": _I,
            "payment_type_id": _I,
            "paid": pl.Boolean,
            "payment_date": _S,
            "company_ac_number": _I,
            "counterparty_ac_number": _I,
        }
    ),
}

PRIMARY_KEY: dict[str, str] = {table: f"{table}_id" for table in RAW_SCHEMAS}

# Source columns a row cannot go on without (they feed a NOT NULL warehouse column, or key the row).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "address": ("address_id", "last_updated", "address_line_1", "city", "postal_code", "country", "phone"),
    "counterparty": ("counterparty_id", "last_updated", "counterparty_legal_name", "legal_address_id"),
    "currency": ("currency_id", "last_updated", "currency_code"),
    "department": ("department_id", "last_updated", "department_name"),
    "design": ("design_id", "last_updated", "design_name", "file_location", "file_name"),
    "payment_type": ("payment_type_id", "last_updated", "payment_type_name"),
    "staff": ("staff_id", "last_updated", "first_name", "last_name", "department_id", "email_address"),
    "transaction": ("transaction_id", "last_updated", "transaction_type"),
    "sales_order": tuple(RAW_SCHEMAS["sales_order"].names()),
    "purchase_order": tuple(RAW_SCHEMAS["purchase_order"].names()),
    "payment": tuple(
        c for c in RAW_SCHEMAS["payment"].names() if c not in ("company_ac_number", "counterparty_ac_number")
    ),
}

# Text columns holding 'YYYY-MM-DD' dates.
_DATE_TEXT: dict[str, tuple[str, ...]] = {
    "sales_order": ("agreed_delivery_date", "agreed_payment_date"),
    "purchase_order": ("agreed_delivery_date", "agreed_payment_date"),
    "payment": ("payment_date",),
}

REJECT_SCHEMA = pl.Schema(
    {
        "table": pl.String,
        "source_key": pl.String,
        "primary_key": pl.Int32,
        "reason": pl.String,
        "row": pl.String,
    }
)

_UNKNOWN_LOCATION = "Unknown"


@dataclass
class ProcessingResult:
    tables: dict[str, pl.DataFrame]
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))
    unknown_currencies: list[str] = field(default_factory=list)
    new_state: dict[str, pl.DataFrame] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------
# helpers


def _empty_raw(table: str, with_source_key: bool = True) -> pl.DataFrame:
    schema = dict(RAW_SCHEMAS[table])
    if with_source_key:
        schema[SOURCE_KEY] = pl.String
    return pl.DataFrame(schema=schema)


def _conform(table: str, frame: pl.DataFrame | None, with_source_key: bool = True) -> pl.DataFrame:
    """The frame with exactly the raw columns (in DDL order, raw dtypes) plus, optionally, _source_key
    and the conform problem note (null when the frame carries none)."""
    if frame is None or frame.width == 0:
        frame = _empty_raw(table, with_source_key=False)
    missing = [c for c in RAW_SCHEMAS[table].names() if c not in frame.columns]
    if missing:
        raise ValueError(f"raw frame for {table!r} lacks columns {missing}")
    exprs = [pl.col(c).cast(dtype) for c, dtype in RAW_SCHEMAS[table].items()]
    if with_source_key:
        for extra in (SOURCE_KEY, CONFORM_PROBLEM):
            if extra in frame.columns:
                exprs.append(pl.col(extra).cast(pl.String))
            else:
                exprs.append(pl.lit(None, dtype=pl.String).alias(extra))
    return frame.select(exprs)


def _parsed_date(column: str) -> pl.Expr:
    return pl.col(column).str.to_date("%Y-%m-%d", strict=False)


def _reject_frame(table: str, bad: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    """Rejects rows (REJECT_SCHEMA) for raw rows ``bad`` of ``table``."""
    if bad.height == 0:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    raw_cols = RAW_SCHEMAS[table].names()
    return bad.select(
        pl.lit(table, dtype=pl.String).alias("table"),
        pl.col(SOURCE_KEY).alias("source_key"),
        pl.col(PRIMARY_KEY[table]).cast(pl.Int32).alias("primary_key"),
        reason.cast(pl.String).alias("reason"),
        pl.struct(raw_cols).struct.json_encode().alias("row"),
    )


def _validate(table: str, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a conformed raw frame into (valid rows, rejects). Valid rows of fact tables have their
    text date columns replaced by parsed dates; every valid (pk, last_updated) appears once."""
    required = _REQUIRED[table]
    date_cols = _DATE_TEXT.get(table, ())
    # a value conform.py couldn't read is null by now: its note says why, instead of "null"
    unreadable = pl.col(CONFORM_PROBLEM).is_not_null()
    null_checks = [(c, pl.col(c).is_null() & ~unreadable) for c in required]
    parse_checks = [(c, pl.col(c).is_not_null() & pl.col(f"__parsed_{c}").is_null()) for c in date_cols]
    checks = [*null_checks, *parse_checks, (CONFORM_PROBLEM, unreadable)]

    lf = frame.lazy().with_columns([_parsed_date(c).alias(f"__parsed_{c}") for c in date_cols])
    lf = lf.with_columns(pl.any_horizontal([cond for _, cond in checks]).alias("__bad"))
    df = lf.collect()

    bad = df.filter(pl.col("__bad"))
    reason = pl.concat_str(
        [pl.when(cond).then(pl.lit(f"{c}: required value is null")) for c, cond in null_checks]
        + [pl.when(cond).then(pl.format(f"{c}: cannot parse '{{}}' as a date", pl.col(c))) for c, cond in parse_checks]
        + [pl.col(CONFORM_PROBLEM)],
        separator="; ",
        ignore_nulls=True,
    )
    rejects = _reject_frame(table, bad, reason)

    pk = PRIMARY_KEY[table]
    good = (
        df.lazy()
        .filter(~pl.col("__bad"))
        # one row per (pk, last_updated): exact replays collapse, the last one read wins
        .filter(pl.struct(pk, "last_updated").is_last_distinct())
        .with_columns([pl.col(f"__parsed_{c}").alias(c) for c in date_cols])
        .drop([f"__parsed_{c}" for c in date_cols] + ["__bad", CONFORM_PROBLEM])
        .collect()
    )
    return good, rejects


def _latest(frames: Iterable[pl.DataFrame], pk: str) -> pl.DataFrame:
    """Latest row per pk (by last_updated; on a tie the later frame/row wins)."""
    combined = pl.concat(list(frames), how="vertical")
    return (
        combined.lazy()
        .sort([pk, "last_updated"], maintain_order=True)
        .unique(subset=[pk], keep="last", maintain_order=True)
        .collect()
    )


def _empty_target(name: str) -> pl.DataFrame:
    return pl.DataFrame(schema=TARGET_SCHEMAS[name])


def _finish(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Exact target column order and dtypes."""
    return frame.select([pl.col(c).cast(dtype) for c, dtype in TARGET_SCHEMAS[name].items()])


def _time(column: str) -> pl.Expr:
    return pl.col(column).dt.time()


def _date(column: str) -> pl.Expr:
    return pl.col(column).dt.date()


# --------------------------------------------------------------------------------------------------
# facts


# Fact builders: ``rows`` are validated rows, one per (natural id, last_updated), in input order.


def _fact_sales_order(rows: pl.DataFrame) -> pl.DataFrame:
    out = rows.lazy().select(
        pl.col("sales_order_id"),
        _date("created_at").alias("created_date"),
        _time("created_at").alias("created_time"),
        _date("last_updated").alias("last_updated_date"),
        _time("last_updated").alias("last_updated_time"),
        pl.col("staff_id").alias("sales_staff_id"),
        pl.col("counterparty_id"),
        pl.col("units_sold"),
        pl.col("unit_price"),
        pl.col("currency_id"),
        pl.col("design_id"),
        pl.col("agreed_payment_date"),
        pl.col("agreed_delivery_date"),
        pl.col("agreed_delivery_location_id"),
    )
    return _finish("fact_sales_order", out.collect())


def _fact_purchase_order(rows: pl.DataFrame) -> pl.DataFrame:
    out = rows.lazy().select(
        pl.col("purchase_order_id"),
        _date("created_at").alias("created_date"),
        _time("created_at").alias("created_time"),
        _date("last_updated").alias("last_updated_date"),
        _time("last_updated").alias("last_updated_time"),
        pl.col("staff_id"),
        pl.col("counterparty_id"),
        pl.col("item_code"),
        pl.col("item_quantity"),
        pl.col("item_unit_price"),
        pl.col("currency_id"),
        pl.col("agreed_delivery_date"),
        pl.col("agreed_payment_date"),
        pl.col("agreed_delivery_location_id"),
    )
    return _finish(
        "fact_purchase_order",
        out.collect(),
    )


def _fact_payment(rows: pl.DataFrame) -> pl.DataFrame:
    out = rows.lazy().select(
        pl.col("payment_id"),
        _date("created_at").alias("created_date"),
        _time("created_at").alias("created_time"),
        _date("last_updated").alias("last_updated_date"),
        _time("last_updated").alias("last_updated"),
        pl.col("transaction_id"),
        pl.col("counterparty_id"),
        pl.col("payment_amount"),
        pl.col("currency_id"),
        pl.col("payment_type_id"),
        pl.col("paid"),
        pl.col("payment_date"),
    )
    return _finish("fact_payment", out.collect())


_FACT_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "fact_sales_order": ("created_date", "last_updated_date", "agreed_payment_date", "agreed_delivery_date"),
    "fact_purchase_order": (
        "created_date",
        "last_updated_date",
        "agreed_delivery_date",
        "agreed_payment_date",
    ),
    "fact_payment": ("created_date", "last_updated_date", "payment_date"),
}


def dim_date_range(start: datetime.date, end: datetime.date) -> pl.DataFrame:
    """dim_date rows for every day from start to end inclusive."""
    dates = pl.date_range(start, end, "1d", eager=True).alias("date_id")
    d = pl.col("date_id")
    return _finish(
        "dim_date",
        pl.DataFrame({"date_id": dates}).select(
            d,
            d.dt.year().alias("year"),
            d.dt.month().alias("month"),
            d.dt.day().alias("day"),
            d.dt.weekday().alias("day_of_week"),
            d.dt.strftime("%A").alias("day_name"),
            d.dt.strftime("%B").alias("month_name"),
            d.dt.quarter().alias("quarter"),
        ),
    )


def dim_date_for_facts(facts: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """dim_date over the range of every date the fact frames reference (empty if they're empty)."""
    bounds = [
        frame.select(
            pl.min_horizontal([pl.col(c).min() for c in cols]).alias("lo"),
            pl.max_horizontal([pl.col(c).max() for c in cols]).alias("hi"),
        )
        for name, cols in _FACT_DATE_COLUMNS.items()
        if (frame := facts.get(name)) is not None and frame.height
    ]
    if not bounds:
        return _empty_target("dim_date")
    both = pl.concat(bounds).select(pl.col("lo").min(), pl.col("hi").max())
    lo, hi = both.row(0)
    return dim_date_range(lo, hi)


# --------------------------------------------------------------------------------------------------
# dimensions


def _with_changed(frame: pl.DataFrame, pk: str, changed: pl.Series) -> pl.DataFrame:
    return frame.filter(pl.col(pk).is_in(changed.implode()))


def _join_failures(table: str, rows: pl.DataFrame, missing: pl.Expr, reason: pl.Expr) -> pl.DataFrame:
    bad = rows.filter(missing)
    return _reject_frame(table, bad, reason)


def _validate_changes(changes: dict[str, pl.DataFrame]) -> tuple[dict[str, pl.DataFrame], list[pl.DataFrame]]:
    """Every raw table's valid rows of this pass, and the rejects."""
    valid: dict[str, pl.DataFrame] = {}
    rejects: list[pl.DataFrame] = []
    for table in RAW_SCHEMAS:
        good, bad = _validate(table, _conform(table, changes.get(table)))
        valid[table] = good
        if bad.height:
            rejects.append(bad)
    return valid, rejects


def _merge_state(
    valid: dict[str, pl.DataFrame], state: dict[str, pl.DataFrame]
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.Series]]:
    """Per state table: the latest row per key (prior state merged with this pass's rows), and the
    keys this pass changed."""
    latest: dict[str, pl.DataFrame] = {}
    changed: dict[str, pl.Series] = {}
    for table in STATE_TABLES:
        pk = PRIMARY_KEY[table]
        prior = _conform(table, state.get(table), with_source_key=False).with_columns(
            pl.lit(None, dtype=pl.String).alias(SOURCE_KEY)
        )
        prior = prior.filter(pl.col(pk).is_not_null() & pl.col("last_updated").is_not_null())
        latest[table] = _latest([prior, valid[table]], pk)
        changed[table] = valid[table].get_column(pk).unique()
    return latest, changed


def _dim_location(latest: dict[str, pl.DataFrame], changed: dict[str, pl.Series]) -> pl.DataFrame:
    address = _with_changed(latest["address"], "address_id", changed["address"])
    return _finish("dim_location", address.rename({"address_id": "location_id"}))


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
        pl.lit(True).alias("__found"),
    )
    joined = rows.join(addr, on="legal_address_id", how="left")
    missing = pl.col("__found").is_null()
    reason = pl.format("legal_address_id: address {} not found", pl.col("legal_address_id"))
    return _finish("dim_counterparty", joined.filter(~missing)), _join_failures("counterparty", joined, missing, reason)


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
        pl.lit(True).alias("__found"),
    )
    joined = rows.join(dept, on="department_id", how="left")
    missing = pl.col("__found").is_null()
    reason = pl.format("department_id: department {} not found", pl.col("department_id"))
    return _finish("dim_staff", joined.filter(~missing)), _join_failures("staff", joined, missing, reason)


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
    return _finish("dim_currency", currency), unknown


def _plain_dimensions(valid: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Dimensions without joins: the latest version in this pass."""
    return {
        "dim_design": _finish("dim_design", _latest([valid["design"]], "design_id")),
        "dim_payment_type": _finish("dim_payment_type", _latest([valid["payment_type"]], "payment_type_id")),
        "dim_transaction": _finish("dim_transaction", _latest([valid["transaction"]], "transaction_id")),
    }


def _facts(valid: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {
        "fact_sales_order": _fact_sales_order(valid["sales_order"]),
        "fact_purchase_order": _fact_purchase_order(valid["purchase_order"]),
        "fact_payment": _fact_payment(valid["payment"]),
    }


def _in_target_order(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Dimensions sorted by key; every table in TARGET_SCHEMAS order."""
    return {
        name: tables[name].sort(tables[name].columns[0]) if name.startswith("dim_") else tables[name]
        for name in TARGET_SCHEMAS
    }


def _combined_rejects(rejects: list[pl.DataFrame]) -> pl.DataFrame:
    found = [r for r in rejects if r.height]
    if not found:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    return pl.concat(found, how="vertical").unique(maintain_order=True)


def transform(changes: dict[str, pl.DataFrame], state: dict[str, pl.DataFrame]) -> ProcessingResult:
    """One processing pass: see the module docstring."""
    valid, rejects = _validate_changes(changes)
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
        rejects=_combined_rejects([*rejects, counterparty_rejects, staff_rejects]),
        unknown_currencies=unknown,
        new_state=new_state,
    )
