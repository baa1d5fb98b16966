"""What the dashboard reads instead of whole histories: the current-version tables and the pre-aggregates.

Both are kept by the loader inside the load transaction, so a reader sees them move together with the
facts, and a replayed batch (a no-op in the ledger) changes nothing here either:

- `<fact>_current` holds the newest version of each natural id unless a deletion marker names that
  version. After a load writes versions of some ids, or markers, only those ids are recomputed from
  the fact's history (its version index), exactly as the old DISTINCT ON views defined them.
- The `reporting_*` pre-aggregates (ddl.sql) sum the current rows by day or member and currency, in
  native and converted values. A load applies the difference: the rows it removed from `_current`
  count negatively, the rows it put there positively. A change of FX rates recomputes them whole.

Only row-level locks: readers never wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

from reveries_pipeline.catalog import DELETED_ROWS, FACT_TABLES, STAR_TABLES
from reveries_pipeline.warehouse.bulk_indexes import fill_with_indexes_rebuilt

REPORTING_CURRENCIES: tuple[str, ...] = ("GBP", "EUR", "USD")  # GBP first: the company reports in it

# What a current row contributes: (units, value) over alias `c`. Payments have no units.
_MEASURES: dict[str, tuple[str, str]] = {
    "fact_sales_order": ("c.units_sold", "c.units_sold * c.unit_price"),
    "fact_purchase_order": ("c.item_quantity", "c.item_quantity * c.item_unit_price"),
    "fact_payment": ("0", "c.payment_amount"),
}


MEASURE_COLUMNS = ("row_count", "units", "native_value", "value_gbp", "value_eur", "value_usd", "unconverted_rows")


@dataclass(frozen=True)
class Aggregate:
    table: str
    fact: str
    key: str  # with currency_id (when by_currency), the primary key
    only: str = "true"  # which current rows it sums
    # False: summed over every currency, so only the converted values (a native sum would mix currencies)
    by_currency: bool = True

    @property
    def group(self) -> tuple[str, ...]:
        return (self.key, "currency_id") if self.by_currency else (self.key,)

    @property
    def measures(self) -> tuple[str, ...]:
        return MEASURE_COLUMNS if self.by_currency else tuple(c for c in MEASURE_COLUMNS if c != "native_value")


AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate("reporting_sales_by_day", "fact_sales_order", "created_date"),
    Aggregate("reporting_sales_by_design", "fact_sales_order", "design_id"),
    # Top designs over every currency: ~1 row per design instead of one per design and currency.
    Aggregate("reporting_sales_by_design_converted", "fact_sales_order", "design_id", by_currency=False),
    Aggregate("reporting_sales_by_staff", "fact_sales_order", "sales_staff_id"),
    Aggregate("reporting_sales_by_counterparty", "fact_sales_order", "counterparty_id"),
    Aggregate("reporting_purchases_by_day", "fact_purchase_order", "created_date"),
    Aggregate("reporting_payments_by_day", "fact_payment", "created_date"),
    Aggregate("reporting_unpaid_payments_by_day", "fact_payment", "payment_date", "NOT c.paid"),
)
# Per fact, the aggregate by (created_date, currency): which days' rates its rows need.
BY_CREATED_DATE: dict[str, str] = {a.fact: a.table for a in AGGREGATES if a.key == "created_date" and a.by_currency}
CURRENT_TABLES: tuple[str, ...] = tuple(f"{fact}_current" for fact in FACT_TABLES)
DERIVED_TABLES: tuple[str, ...] = (*CURRENT_TABLES, *(a.table for a in AGGREGATES))

_SETTINGS = {"work_mem": "256MB", "jit": "off"}  # a whole-history recompute sorts in memory


def high_water(conn: psycopg.Connection, fact: str) -> int:
    """The fact's highest record id: versions written after this are the ones to fold in."""
    record_id = sql.Identifier(STAR_TABLES[fact].record_id)
    return conn.execute(
        sql.SQL("SELECT coalesce(max({}), 0) FROM {}").format(record_id, sql.Identifier(fact))
    ).fetchone()[0]


def after_fact_load(conn: psycopg.Connection, fact: str, since_record_id: int, lock_timeout_s: float) -> None:
    """Fold the versions written above `since_record_id` into `_current` and the pre-aggregates."""
    _settings(conn)
    if since_record_id == 0:  # the table was empty: recompute whole (faster than by difference)
        _recompute_fact(conn, fact, lock_timeout_s)
        return
    _refresh_ids(conn, fact, ids_written_since(fact, since_record_id))


def ids_written_since(fact: str, since_record_id: int) -> sql.Composed:
    """SELECT of the natural ids with a version written after `since_record_id` (the ids a load touched)."""
    spec = STAR_TABLES[fact]
    return sql.SQL("SELECT DISTINCT {id} FROM {fact} WHERE {rid} > {since}").format(
        id=sql.Identifier(spec.natural_id),
        fact=sql.Identifier(fact),
        rid=sql.Identifier(spec.record_id),
        since=sql.Literal(since_record_id),
    )


def after_marker_load(conn: psycopg.Connection) -> None:
    """Drop from `_current` the rows a deletion marker now names (the newest version was deleted)."""
    _settings(conn)
    for fact in FACT_TABLES:
        natural_id, version_date, version_time = (sql.Identifier(c) for c in STAR_TABLES[fact].key)
        named = sql.SQL(
            "SELECT c.{id} FROM {markers} AS d JOIN {current} AS c ON c.{id} = d.natural_id"
            " AND c.{vd} = d.version_date AND c.{vt} = d.version_time WHERE d.star_table = {fact}"
        ).format(
            id=natural_id,
            vd=version_date,
            vt=version_time,
            markers=sql.Identifier(DELETED_ROWS.name),
            current=sql.Identifier(f"{fact}_current"),
            fact=sql.Literal(fact),
        )
        _refresh_ids(conn, fact, named)


def created_dates_without_rate(conn: psycopg.Connection, fact: str) -> list[tuple[date, str]]:
    """(created date, currency code) pairs of `fact`'s current rows that have no FX rate, oldest first."""
    rows = conn.execute(
        sql.SQL(
            "SELECT a.created_date, coalesce(c.currency_code, a.currency_id::text) FROM {} AS a"
            " LEFT JOIN dim_currency AS c ON c.currency_id = a.currency_id"
            " WHERE a.unconverted_rows > 0 ORDER BY a.created_date, 2"
        ).format(sql.Identifier(BY_CREATED_DATE[fact]))
    ).fetchall()
    return [(day, code) for day, code in rows]


def recompute_aggregates(conn: psycopg.Connection) -> None:
    """Recompute every pre-aggregate from the current rows (after FX rates changed)."""
    _settings(conn)
    for fact in FACT_TABLES:
        for aggregate in _of(fact):
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(aggregate.table)))
        _fold(conn, fact, sql.Identifier(f"{fact}_current"), signed=False)


def recompute_all(conn: psycopg.Connection) -> None:
    """Recompute the current tables and the pre-aggregates from the facts (after a schema migration)."""
    _settings(conn)
    for fact in FACT_TABLES:
        _recompute_fact(conn, fact)


def _settings(conn: psycopg.Connection) -> None:
    for name, value in _SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def _recompute_fact(conn: psycopg.Connection, fact: str, lock_timeout_s: float | None = None) -> None:
    """`_current` and the pre-aggregates of `fact` rebuilt from its history; with a lock timeout, the
    current table's indexes are built once after it is filled (bulk_indexes.py)."""
    current = sql.Identifier(f"{fact}_current")
    conn.execute(sql.SQL("DELETE FROM {}").format(current))
    fill = sql.SQL("INSERT INTO {} {}").format(current, newest_versions(fact, restrict=sql.SQL("")))
    if lock_timeout_s is None:
        conn.execute(fill)
    else:
        fill_with_indexes_rebuilt(conn, f"{fact}_current", lambda: conn.execute(fill), lock_timeout_s)
    for aggregate in _of(fact):
        conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(aggregate.table)))
    _fold(conn, fact, current, signed=False)


def newest_versions(fact: str, restrict: sql.Composable) -> sql.Composed:
    """The newest version of each id (of those `restrict` keeps), unless a marker names that version."""
    spec = STAR_TABLES[fact]
    natural_id, version_date, version_time = (sql.Identifier(c) for c in spec.key)
    return sql.SQL(
        """
        SELECT v.* FROM (
            SELECT DISTINCT ON (f.{id}) f.* FROM {fact} AS f {restrict}
            ORDER BY f.{id}, f.{vd} DESC, f.{vt} DESC, f.{rid} DESC
        ) AS v
        WHERE NOT EXISTS (
            SELECT 1 FROM {markers} AS d
            WHERE d.star_table = {name} AND d.natural_id = v.{id}
              AND d.version_date = v.{vd} AND d.version_time = v.{vt}
        )
        """
    ).format(
        id=natural_id,
        vd=version_date,
        vt=version_time,
        rid=sql.Identifier(spec.record_id),
        fact=sql.Identifier(fact),
        restrict=restrict,
        markers=sql.Identifier(DELETED_ROWS.name),
        name=sql.Literal(fact),
    )


def _refresh_ids(conn: psycopg.Connection, fact: str, touched_ids: sql.Composable) -> None:
    """Recompute `_current` for the ids `touched_ids` selects; apply the difference to the aggregates."""
    current = sql.Identifier(f"{fact}_current")
    natural_id = sql.Identifier(STAR_TABLES[fact].natural_id)
    touched, delta = sql.Identifier("reporting_touched_ids"), sql.Identifier("reporting_delta")
    conn.execute(sql.SQL("CREATE TEMP TABLE {} AS {}").format(touched, touched_ids))
    if conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(touched)).fetchone()[0]:
        conn.execute(sql.SQL("DROP TABLE {}").format(touched))
        return
    conn.execute(sql.SQL("ANALYZE {}").format(touched))
    conn.execute(sql.SQL("CREATE TEMP TABLE {} AS SELECT 0 AS sign, c.* FROM {} AS c LIMIT 0").format(delta, current))
    conn.execute(
        sql.SQL(
            "WITH gone AS (DELETE FROM {current} AS c USING {touched} AS t WHERE c.{id} = t.{id} RETURNING c.*)"
            " INSERT INTO {delta} SELECT -1, gone.* FROM gone"
        ).format(current=current, touched=touched, id=natural_id, delta=delta)
    )
    restrict = sql.SQL("JOIN {} AS t ON t.{} = f.{}").format(touched, natural_id, natural_id)
    conn.execute(
        sql.SQL(
            "WITH came AS (INSERT INTO {current} {newest} RETURNING *) INSERT INTO {delta} SELECT 1, came.* FROM came"
        ).format(current=current, newest=newest_versions(fact, restrict), delta=delta)
    )
    _fold(conn, fact, delta, signed=True)
    conn.execute(sql.SQL("DROP TABLE {}, {}").format(touched, delta))


# Each measure's sum over the rows of `c` (each counting `sign` times), converted row by row at the
# created date's rate (`f`); a row without a rate is counted in unconverted_rows instead.
_SUMS = {
    "row_count": "sum({sign})",
    "units": "sum({sign} * {units})",
    "native_value": "sum({sign} * {value})",
    "value_gbp": "coalesce(sum({sign} * {value} * f.gbp_per_eur / f.units_per_eur), 0)",
    "value_eur": "coalesce(sum({sign} * {value} / f.units_per_eur), 0)",
    "value_usd": "coalesce(sum({sign} * {value} * f.usd_per_eur / f.units_per_eur), 0)",
    "unconverted_rows": "coalesce(sum({sign}) FILTER (WHERE f.currency_id IS NULL), 0)",
}


# Each row of `c` meets its created date's rates as `f` (no rate yet: f's columns are NULL).
_RATE_JOIN = sql.SQL("LEFT JOIN reporting_fx AS f ON f.currency_id = c.currency_id AND f.rate_day = c.created_date")


def _sum(measure: str, fact: str, signed: bool) -> sql.Composed:
    """The SQL sum of `measure` over the fact's rows `c` (each counting `sign` times when `signed`)."""
    units, value = _MEASURES[fact]
    return sql.SQL(_SUMS[measure]).format(
        sign=sql.SQL("c.sign" if signed else "1"), units=sql.SQL(units), value=sql.SQL(value)
    )


def aggregate_rows(aggregate: Aggregate, source: sql.Composable, signed: bool = False) -> sql.Composed:
    """The aggregate's rows summed from `source` (current rows; with `signed`, each counts `sign` times)."""
    measures = sql.SQL(", ").join(_sum(m, aggregate.fact, signed) for m in aggregate.measures)
    group = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(k)) for k in aggregate.group)
    return sql.SQL("SELECT {group}, {measures} FROM {source} AS c {rates} WHERE {only} GROUP BY {group}").format(
        group=group, measures=measures, source=source, rates=_RATE_JOIN, only=sql.SQL(aggregate.only)
    )


def aggregate_columns(aggregate: Aggregate) -> sql.Composed:
    """The aggregate's columns, in aggregate_rows' order."""
    return sql.SQL(", ").join(map(sql.Identifier, (*aggregate.group, *aggregate.measures)))


def _of(fact: str) -> list[Aggregate]:
    return [a for a in AGGREGATES if a.fact == fact]


def _fold(conn: psycopg.Connection, fact: str, source: sql.Identifier, signed: bool) -> None:
    """Add the sums of `source`'s rows to each of the fact's aggregates (inserted fresh, or with `signed`
    added to what they hold). The aggregates over every row share one pass: one join to the rates and one
    conversion per row, grouped by GROUPING SETS; an aggregate over some rows only sums on its own."""
    shared = [a for a in _of(fact) if a.only == "true"]
    if shared:
        sums = sql.Identifier("reporting_sums")
        conn.execute(sql.SQL("CREATE TEMP TABLE {} AS {}").format(sums, _grouping_sets(shared, source, signed)))
        for aggregate in shared:
            rows = sql.SQL("SELECT {} FROM {} WHERE grouping_id = {}").format(
                aggregate_columns(aggregate), sums, sql.Literal(_grouping_id(shared, aggregate))
            )
            _store(conn, aggregate, rows, signed)
        conn.execute(sql.SQL("DROP TABLE {}").format(sums))
    for aggregate in _of(fact):
        if aggregate.only != "true":
            _store(conn, aggregate, aggregate_rows(aggregate, source, signed), signed)


def _key_columns(aggregates: list[Aggregate]) -> list[str]:
    return list(dict.fromkeys(column for a in aggregates for column in a.group))


def _grouping_id(aggregates: list[Aggregate], aggregate: Aggregate) -> int:
    """What GROUPING(all key columns) returns for `aggregate`'s grouping set (a bit per column left out)."""
    columns = _key_columns(aggregates)
    return sum(1 << (len(columns) - 1 - i) for i, column in enumerate(columns) if column not in aggregate.group)


def _grouping_sets(aggregates: list[Aggregate], source: sql.Identifier, signed: bool) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(k)) for k in _key_columns(aggregates))
    sets = sql.SQL(", ").join(
        sql.SQL("({})").format(sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(k)) for k in a.group))
        for a in aggregates
    )
    measures = sql.SQL(", ").join(
        sql.SQL("{} AS {}").format(_sum(m, aggregates[0].fact, signed), sql.Identifier(m)) for m in MEASURE_COLUMNS
    )
    return sql.SQL(
        "SELECT {columns}, GROUPING({columns}) AS grouping_id, {measures} FROM {source} AS c {rates}"
        " GROUP BY GROUPING SETS ({sets})"
    ).format(columns=columns, measures=measures, source=source, rates=_RATE_JOIN, sets=sets)


def _store(conn: psycopg.Connection, aggregate: Aggregate, rows: sql.Composable, signed: bool) -> None:
    """Insert `rows` into the aggregate; with `signed`, add them to the groups it holds and drop the
    groups left with no rows."""
    table = sql.Identifier(aggregate.table)
    insert = sql.SQL("INSERT INTO {} ({}) {}").format(table, aggregate_columns(aggregate), rows)
    if not signed:
        conn.execute(insert)
        return
    group = sql.SQL(", ").join(map(sql.Identifier, aggregate.group))
    add = sql.SQL(", ").join(
        sql.SQL("{0} = {1}.{0} + EXCLUDED.{0}").format(sql.Identifier(c), table) for c in aggregate.measures
    )
    conn.execute(sql.SQL("{} ON CONFLICT ({}) DO UPDATE SET {}").format(insert, group, add))
    conn.execute(
        sql.SQL("DELETE FROM {table} AS a USING ({rows}) AS d WHERE {match} AND a.row_count = 0").format(
            table=table,
            rows=rows,
            match=sql.SQL(" AND ").join(sql.SQL("a.{0} = d.{0}").format(sql.Identifier(k)) for k in aggregate.group),
        )
    )


def fill_new_tables(conn: psycopg.Connection) -> None:
    """After a migration: fill a current table or pre-aggregate it created, if its source has rows."""
    _settings(conn)
    for fact in FACT_TABLES:
        current = sql.Identifier(f"{fact}_current")
        if _is_empty(conn, current) and not _is_empty(conn, sql.Identifier(fact)):
            _recompute_fact(conn, fact)
    for aggregate in AGGREGATES:
        table, current = sql.Identifier(aggregate.table), sql.Identifier(f"{aggregate.fact}_current")
        if _is_empty(conn, table) and not _is_empty(conn, current):
            _store(conn, aggregate, aggregate_rows(aggregate, current), signed=False)


def _is_empty(conn: psycopg.Connection, table: sql.Identifier) -> bool:
    return conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(table)).fetchone()[0]


def days_without_rates(conn: psycopg.Connection, earliest: date, latest: date) -> list[date]:
    """The days within [earliest, latest] that a current order or payment was created on and that have
    no stored rate, in order: what an FX backfill must fill."""
    days = {day for fact in BY_CREATED_DATE for day, _ in created_dates_without_rate(conn, fact)}
    return sorted(day for day in days if earliest <= day <= latest)
