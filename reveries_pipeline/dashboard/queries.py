"""The dashboard's questions: one versioned SQL file per panel under `sql/`, run with named parameters.

Each file is standalone: a header comment says what it answers and which parameters it takes, and
parameters are psycopg placeholders (percent, parenthesised name, s). Every filter parameter treats
NULL or the empty string as "no filter", so the same text runs in psql with variables:

    python -m reveries_pipeline.dashboard.queries --psql sales_by_month \
        | psql "$DASHBOARD_DSN" -v date_from= -v date_to= -v currency= -v reporting_currency=EUR

Money is never summed across currencies: with no currency filter a query shows values converted into
`reporting_currency` (GBP, EUR or USD; REPORTING_CURRENCIES), with a filter the native values of that
currency; a `shown_in` column says which.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import polars as pl
import psycopg

from reveries_pipeline.warehouse.reporting import DERIVED_TABLES, REPORTING_CURRENCIES
from reveries_pipeline.warehouse.schema import installed_schema_version

log = logging.getLogger(__name__)

QUERY_NAMES: tuple[str, ...] = (
    "last_loaded",
    "currencies",
    "date_bounds",
    "headline",
    "sales_by_month",
    "top_designs_by_value",
    "top_designs_by_units",
    "sales_by_location",
    "staff_leaderboard",
    "outstanding_payments",
    "purchases_vs_sales",
    "latest_order",
    "order_history",
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def load_query(name: str) -> str:
    """The SQL text of query `name` (a member of QUERY_NAMES)."""
    if name not in QUERY_NAMES:
        raise KeyError(f"unknown dashboard query {name!r}; known: {', '.join(QUERY_NAMES)}")
    return resources.files("reveries_pipeline.dashboard").joinpath("sql", f"{name}.sql").read_text()


def query_parameters(name: str) -> tuple[str, ...]:
    """The named parameters query `name` takes, in order of first use."""
    return tuple(dict.fromkeys(_PLACEHOLDER.findall(load_query(name))))


def psql_text(name: str) -> str:
    """The query with psql variables (:'name') in place of psycopg placeholders."""
    return _PLACEHOLDER.sub(lambda m: f":'{m.group(1)}'", load_query(name))


def _normalise(value: Any) -> Any:
    # "all" (any case) in the currency filter means no filter; in reporting_currency, the default (GBP).
    if isinstance(value, str) and value.strip().lower() in ("", "all"):
        return None
    # Dates travel as ISO text: the SQL casts every filter from text, and a text constant folds at plan
    # time (so a date range uses the created_date index), where a date parameter's ::text cast does not.
    if isinstance(value, date):
        return value.isoformat()
    return value


def _params(name: str, given: dict[str, Any]) -> dict[str, Any]:
    wanted = query_parameters(name)
    unknown = set(given) - set(wanted)
    if unknown:
        raise TypeError(f"query {name!r} takes no parameter(s) {sorted(unknown)}; it takes {list(wanted)}")
    bound = {p: _normalise(given.get(p)) for p in wanted}
    reporting = bound.get("reporting_currency")
    if reporting is not None and str(reporting).upper() not in REPORTING_CURRENCIES:
        raise ValueError(f"reporting_currency {reporting!r} is not one of {', '.join(REPORTING_CURRENCIES)}")
    return bound


def _frame(columns: list[str], rows: list[tuple]) -> pl.DataFrame:
    data = {col: [row[i] for row in rows] for i, col in enumerate(columns)}
    return pl.DataFrame(data, strict=False)


def run_query(conn: psycopg.Connection, name: str, **params: Any) -> pl.DataFrame:
    """Run query `name` with named parameters (missing ones are NULL = no filter); a polars DataFrame."""
    return timed_query(conn, name, **params).frame


@dataclass(frozen=True)
class Timed:
    name: str
    frame: pl.DataFrame
    seconds: float


def timed_query(conn: psycopg.Connection, name: str, **params: Any) -> Timed:
    """run_query, also measuring the wall time of the round trip (logged at INFO)."""
    sql = load_query(name)
    bound = _params(name, params)
    started = time.perf_counter()
    with conn.cursor() as cur:
        # Never prepared: each run is planned with its parameter values, so a NULL filter folds
        # away (a generic plan would keep it and misestimate).
        cur.execute(sql, bound, prepare=False)
        columns = [d.name for d in cur.description]
        rows = cur.fetchall()
    seconds = time.perf_counter() - started
    log.info("dashboard query %s took %.1f ms (%d rows)", name, seconds * 1000, len(rows))
    return Timed(name, _frame(columns, rows), seconds)


# What the queries read besides the dimensions: a warehouse built before these existed is not ready
# until its next load migrates it (the dashboard's role is read-only).
READ_RELATIONS: tuple[str, ...] = (*DERIVED_TABLES, "reporting_fx", "reveries_load_ledger")


def warehouse_ready(conn: psycopg.Connection) -> bool:
    """True when the warehouse schema the queries read (current tables, pre-aggregates, ledger) exists."""
    return schema_state(conn) == "ready"


def schema_state(conn: psycopg.Connection) -> str:
    """ "ready"; "outdated" when an older warehouse schema is there (the next load migrates it, the
    read-only dashboard can't); "missing" when nothing was ever loaded."""
    row = conn.execute(
        "SELECT bool_and(to_regclass(name) IS NOT NULL) FROM unnest(%s::text[]) AS name", (list(READ_RELATIONS),)
    ).fetchone()
    if row and row[0]:
        return "ready"
    return "missing" if installed_schema_version(conn) is None else "outdated"


def format_money(value: Decimal | float | int | None) -> str:
    """How money is shown on the page: thousands separators, two decimals."""
    return f"{Decimal(value or 0):,.2f}"


def format_count(value: int | None) -> str:
    return f"{int(value or 0):,}"


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "--psql":
        sys.stdout.write(psql_text(args[1]))
        return 0
    if len(args) == 1 and args[0] == "--list":
        for name in QUERY_NAMES:
            print(name, " ".join(query_parameters(name)))
        return 0
    print("usage: python -m reveries_pipeline.dashboard.queries (--list | --psql NAME)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
