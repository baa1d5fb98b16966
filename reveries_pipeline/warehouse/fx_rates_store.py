"""The IO manager of `reference/fx_rates`: its partitions are rows of the warehouse table `reveries_fx_rate`.

Storing a range of days replaces those days' rows in one transaction under the warehouse's writer
lock (a load waits, and then sees them). When any stored rate changed, the pre-aggregates'
converted values are recomputed in the same transaction, so no reader ever sees values converted
at two generations of rates. Only row locks: readers never wait.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import psycopg
from dagster import ConfigurableIOManager, InputContext, MetadataValue, OutputContext

from reveries_pipeline.resources import PostgresResource
from reveries_pipeline.warehouse import reporting
from reveries_pipeline.warehouse.locks import lock_warehouse
from reveries_pipeline.warehouse.schema import ensure_warehouse_schema

FX_RATE_TABLE = "reveries_fx_rate"
COLUMNS = ("currency_code", "rate_day", "rate_date", "units_per_eur")


class FxRatesIOManager(ConfigurableIOManager):
    warehouse: PostgresResource

    def handle_output(self, context: OutputContext, obj: pl.DataFrame) -> None:
        first_day, last_day = _days(context)
        with self.warehouse.connection() as conn:
            ensure_warehouse_schema(conn)
        with self.warehouse.connection() as conn:
            changed = store_rates(conn, obj, first_day, last_day)
            without_rate = facts_without_rate(conn)
        context.add_output_metadata(
            {
                "rates_changed": MetadataValue.int(changed),
                "table": MetadataValue.text(FX_RATE_TABLE),
                "created_dates_without_rate": MetadataValue.int(without_rate),
            }
        )

    def load_input(self, context: InputContext) -> pl.DataFrame:
        first_day, last_day = _days(context)
        with self.warehouse.connection(read_only=True) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT currency_code, rate_day, rate_date, units_per_eur FROM reveries_fx_rate"
                " WHERE rate_day BETWEEN %s AND %s ORDER BY rate_day, currency_code",
                (first_day, last_day),
            )
            rows = cur.fetchall()
        return pl.DataFrame(rows, schema=list(COLUMNS), orient="row")


def _days(context: OutputContext | InputContext) -> tuple[date, date]:
    window = context.asset_partitions_time_window
    return window.start.date(), window.end.date() - timedelta(days=1)


def store_rates(conn: psycopg.Connection, rates: pl.DataFrame, first_day: date, last_day: date) -> int:
    """Make the stored rates of [first_day, last_day] exactly `rates`; the number of rows that changed.

    Idempotent: storing the same rates again changes nothing (and recomputes nothing)."""
    lock_warehouse(conn)
    conn.execute("CREATE TEMP TABLE incoming_fx_rate (LIKE reveries_fx_rate) ON COMMIT DROP")
    copy_in = "COPY incoming_fx_rate (currency_code, rate_day, rate_date, units_per_eur) FROM STDIN"
    with conn.cursor() as cur, cur.copy(copy_in) as copy:
        for row in rates.select(COLUMNS).iter_rows():
            copy.write_row(row)
    removed = conn.execute(
        "DELETE FROM reveries_fx_rate AS r WHERE r.rate_day BETWEEN %s AND %s"
        " AND NOT EXISTS (SELECT 1 FROM incoming_fx_rate AS i"
        " WHERE i.currency_code = r.currency_code AND i.rate_day = r.rate_day)",
        (first_day, last_day),
    ).rowcount
    upserted = conn.execute(
        "INSERT INTO reveries_fx_rate SELECT * FROM incoming_fx_rate ON CONFLICT (currency_code, rate_day)"
        " DO UPDATE SET rate_date = EXCLUDED.rate_date, units_per_eur = EXCLUDED.units_per_eur"
        " WHERE (reveries_fx_rate.rate_date, reveries_fx_rate.units_per_eur)"
        " IS DISTINCT FROM (EXCLUDED.rate_date, EXCLUDED.units_per_eur)"
    ).rowcount
    changed = max(removed, 0) + max(upserted, 0)
    if changed:
        reporting.recompute_aggregates(conn)
    return changed


def facts_without_rate(conn: psycopg.Connection) -> int:
    """How many (created date, currency) pairs of current orders and payments have no rate."""
    return sum(len(reporting.created_dates_without_rate(conn, fact)) for fact in reporting.BY_CREATED_DATE)
