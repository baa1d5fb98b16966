"""The Reveries dashboard (a Streamlit script): `streamlit run app.py`, or `reveries dashboard`.

Every panel answers one question with one SQL file from `sql/` (see queries.py), read from the
warehouse's pre-aggregates. Money is never added across currencies: with currency "All" it is converted
into the reporting currency (GBP by default), filtered to one currency it is that currency's own; every
figure says which. Filters can be preset in the URL:
?currency=GBP&reporting_currency=EUR&date_from=2024-01-01&date_to=2024-03-31&as_of=2024-06-30&order_id=7
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime

import altair as alt
import polars as pl
import psycopg
import streamlit as st
from psycopg_pool import ConnectionPool

from reveries_pipeline.dashboard import queries as q

log = logging.getLogger("reveries_pipeline.dashboard")

st.set_page_config(page_title="Reveries · totesys warehouse", page_icon="👜", layout="wide")


# ---------------------------------------------------------------- connection (once per server process)


@st.cache_resource
def _logging() -> None:
    logger = logging.getLogger("reveries_pipeline.dashboard")
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


@st.cache_resource
def _dsn() -> str:
    from reveries_pipeline.dashboard.connection import dashboard_dsn

    return dashboard_dsn()


@st.cache_resource
def _pool(dsn: str) -> ConnectionPool:
    return ConnectionPool(dsn, min_size=1, max_size=4, kwargs={"autocommit": True}, open=True)


_logging()
POOL = _pool(_dsn())
TIMINGS: list[q.Timed] = []


# Answers are cached per (query, filters, warehouse version): the version is the load ledger's
# latest entry, so a new load invalidates everything and an unchanged warehouse is never re-queried.
WAREHOUSE_VERSION: list[str] = [""]


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_query(name: str, params: tuple, warehouse_version: str) -> q.Timed:
    with POOL.connection() as conn:
        return q.timed_query(conn, name, **dict(params))


def run(name: str, **params) -> q.Timed:
    if name == "last_loaded":  # the version itself is always read fresh
        with POOL.connection() as conn:
            timed = q.timed_query(conn, name, **params)
    else:
        timed = _cached_query(name, tuple(sorted(params.items())), WAREHOUSE_VERSION[0])
    TIMINGS.append(timed)
    return timed


def timing(t: q.Timed) -> None:
    st.caption(f"`{t.name}.sql` · {t.seconds * 1000:.1f} ms · {t.frame.height} rows")


def for_chart(frame: pl.DataFrame) -> pl.DataFrame:
    """Vega-Lite wants floats: exact decimals become Float64 for drawing only."""
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


def table(frame: pl.DataFrame, target=st) -> None:
    """A frame as a table; dates shown as dates (not midnight timestamps)."""
    target.dataframe(frame.with_columns(pl.col(pl.Date).cast(pl.String)), hide_index=True)


def paged(name: str, key: str, params: dict) -> None:
    """A table read one page at a time (LIMIT/OFFSET in the SQL), with page size and number inputs."""
    left, right, _ = st.columns([1, 1, 4])
    size = left.selectbox("Rows per page", (10, 25, 50, 100), key=f"{key}_size")
    page = right.number_input("Page", min_value=1, value=1, step=1, key=f"{key}_page")
    t = run(name, limit=size, offset=(int(page) - 1) * size, **params)
    total = int(t.frame["total_rows"][0]) if t.frame.height else 0
    table(t.frame.drop("total_rows"))
    st.caption(f"Page {page} of {max(1, math.ceil(total / size))} · {total:,} rows in all")
    timing(t)


def guarded(title: str, draw, *args) -> None:
    """Draw one panel; a query the role's statement_timeout cancelled is named on the page (never a
    traceback) and the other panels still render."""
    try:
        draw(*args)
    except psycopg.errors.QueryCanceled:
        log.warning("dashboard panel %r: query cancelled by statement_timeout", title)
        st.error(
            f"{title}: the warehouse took too long to answer and the query was cancelled. "
            "Try a shorter date range, or reload the page in a while."
        )


def left_out(t: q.Timed, column: str = "unconverted_orders", what: str = "orders") -> None:
    """Say how many orders a converted figure leaves out because their created date has no FX rate yet."""
    count = int(t.frame[column].sum()) if t.frame.height and column in t.frame.columns else 0
    if count:
        noun = what if count != 1 else what.removesuffix("s")
        st.caption(f"{count:,} {noun} without an FX rate for the created date yet: left out of the values.")


def unbounded(picked: date | None, bound: date, is_first: bool) -> date | None:
    """A date bound that keeps every row is no bound: the panels then read the pre-aggregates whole."""
    if picked is None or (picked <= bound if is_first else picked >= bound):
        return None
    return picked


# Values preset in the URL are a visitor's input: one that can't be used is named on the page and
# ignored, never a traceback.
MAX_ORDER_ID = 2**31 - 1  # the warehouse's INT


def _qp_date(name: str) -> date | None:
    text = st.query_params.get(name, "")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        st.warning(f"Ignored {name}={text[:40]!r} in the address: expected a date such as 2024-01-31.")
        return None


def _qp_order_id() -> int | None:
    text = st.query_params.get("order_id", "")
    if not text:
        return None
    # ASCII digits only: str.isdigit() also accepts '²', which int() refuses
    if text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ORDER_ID:
        return int(text)
    st.warning(f"Ignored order_id={text[:40]!r} in the address: expected a whole number from 1 to {MAX_ORDER_ID}.")
    return None


# ---------------------------------------------------------------- the panels


def headline_panel(filters: dict) -> None:
    t = run("headline", **filters)
    h = t.frame.row(0, named=True)
    shown = h["shown_in"]
    how = f"converted into {shown} at each order's created-date rate" if filters["currency"] is None else "native"
    c1, c2, c3 = st.columns(3)
    c1.metric(f"Sales value ({shown})", q.format_money(h["sales_value"]), help=f"units_sold × unit_price, {how}")
    c2.metric("Orders", q.format_count(h["orders"]))
    c3.metric("Units sold", q.format_count(h["units_sold"]))
    left_out(t)
    timing(t)


def sales_by_month_panel(filters: dict) -> None:
    t = run("sales_by_month", **filters)
    if t.frame.height:
        shown = t.frame["shown_in"][0]
        st.altair_chart(
            alt.Chart(for_chart(t.frame))
            .mark_line(point=True)
            .encode(
                x=alt.X("yearmonth(month):T", title="Month", axis=alt.Axis(format="%b %Y", tickCount="month")),
                y=alt.Y("sales_value:Q", title=f"Sales value ({shown})"),
                tooltip=["month:T", "sales_value:Q", "shown_in:N", "orders:Q", "units_sold:Q"],
            ),
            width="stretch",
        )
        left_out(t)
    else:
        st.write("No sales in the filter.")
    timing(t)


def top_designs_panel(filters: dict, top_n: int) -> None:
    left, right = st.columns(2)
    for col, name, measure, title in (
        (left, "top_designs_by_value", "sales_value", "By sales value"),
        (right, "top_designs_by_units", "units_sold", "By units sold"),
    ):
        with col:
            st.markdown(f"**{title}**")
            t = run(name, limit=top_n, **filters)
            if t.frame.height:
                shown = t.frame["shown_in"][0]
                axis = f"Sales value ({shown})" if measure == "sales_value" else "Units sold"
                st.altair_chart(
                    alt.Chart(for_chart(t.frame))
                    .mark_bar()
                    .encode(
                        x=alt.X(f"{measure}:Q", title=axis),
                        y=alt.Y("design_name:N", sort="-x", title="Design"),
                        tooltip=["design_name:N", "sales_value:Q", "shown_in:N", "units_sold:Q", "orders:Q"],
                    ),
                    width="stretch",
                )
            timing(t)


def purchases_vs_sales_panel(filters: dict) -> None:
    t = run("purchases_vs_sales", **filters)
    if t.frame.height:
        shown = t.frame["shown_in"][0]
        long = for_chart(t.frame).unpivot(
            index=["month"], on=["sales_value", "purchase_value"], variable_name="measure"
        )
        st.altair_chart(
            alt.Chart(long)
            .mark_bar()
            .encode(
                x=alt.X("yearmonth(month):O", title="Month"),
                xOffset="measure:N",
                y=alt.Y("value:Q", title=f"Value ({shown})"),
                color=alt.Color("measure:N", title=None),
                tooltip=["month:T", "measure:N", "value:Q"],
            ),
            width="stretch",
        )
        left_out(t)
    else:
        st.write("No sales or purchases in the filter.")
    timing(t)


def outstanding_panel(money: dict) -> None:
    as_of = st.date_input("Overdue as of", value=_qp_date("as_of") or date.today(), key="as_of")
    t = run("outstanding_payments", as_of=as_of, **money)
    if t.frame.height:
        shown = t.frame["shown_in"][0]
        left, right = st.columns([3, 2])
        left.altair_chart(
            alt.Chart(for_chart(t.frame))
            .mark_bar()
            .encode(
                x=alt.X(
                    "bucket:N",
                    sort=["0-30", "31-60", "61-90", "90+"],
                    title="Days overdue",
                    axis=alt.Axis(labelAngle=0),
                ),
                y=alt.Y("amount:Q", title=f"Amount ({shown})"),
                tooltip=["bucket:N", "payments:Q", "amount:Q", "shown_in:N", "oldest_payment_date:T"],
            ),
            width="stretch",
        )
        table(t.frame.drop("bucket_order"), right)
        left_out(t, "unconverted_payments", "payments")
    else:
        st.write("Nothing overdue.")
    timing(t)


def order_history_panel(reporting_currency: str) -> None:
    default_order = _qp_order_id()
    if default_order is None:
        latest = run("latest_order").frame
        default_order = int(latest["sales_order_id"][0]) if latest.height else 1
    order_id = st.number_input(
        "Sales order id", min_value=1, max_value=MAX_ORDER_ID, value=default_order, step=1, key="order_id"
    )
    t = run("order_history", sales_order_id=int(order_id), reporting_currency=reporting_currency)
    if t.frame.height:
        table(t.frame)
    else:
        st.write(f"No sales order {order_id} in the warehouse.")
    timing(t)


# ---------------------------------------------------------------- the page

st.title("Reveries · totesys warehouse")

with POOL.connection() as _conn:
    schema = q.schema_state(_conn)
if schema == "outdated":
    st.markdown("**The warehouse schema is older than this dashboard** — the next load migrates it.")
    st.info("Load the warehouse (e.g. `reveries run --job warehouse_job`), then reload this page.")
    st.stop()
if schema == "missing":
    st.markdown("**Warehouse never loaded** — the warehouse schema does not exist yet.")
    st.info("Run the pipeline (e.g. `reveries run`) to build and load the warehouse, then reload this page.")
    st.stop()

last = run("last_loaded").frame.row(0, named=True)
WAREHOUSE_VERSION[0] = str(last)
if last["last_loaded_at"] is None:
    st.markdown("**Warehouse never loaded** — the load ledger is empty.")
else:
    loaded: datetime = last["last_loaded_at"]
    st.markdown(f"Warehouse last loaded at **{loaded.strftime('%Y-%m-%d %H:%M:%S %Z')}**")

# ---- sidebar filters
bounds = run("date_bounds").frame.row(0, named=True)
first, last_date = bounds["first_date"] or date.today(), bounds["last_date"] or date.today()
currencies = ["All", *run("currencies").frame["currency_code"].to_list()]

with st.sidebar:
    st.header("Filters")
    if "created" not in st.session_state:
        st.session_state["created"] = (_qp_date("date_from") or first, _qp_date("date_to") or last_date)
    picked = st.date_input("Created date", key="created", help="Inclusive range on created_date")
    date_from = picked[0] if len(picked) > 0 else None
    date_to = picked[1] if len(picked) > 1 else None
    currency = st.selectbox("Currency", currencies, key="currency", bind="query-params")
    reporting_currency = st.selectbox(
        "Reporting currency",
        q.REPORTING_CURRENCIES,
        key="reporting_currency",
        bind="query-params",
        help="With currency All, money is converted into this currency at each order's created-date ECB rate.",
    )
    st.caption("Date and currency filters apply to the sales and purchase panels; currency also to payments.")
    top_n = st.number_input("Top designs", min_value=1, max_value=100, value=10, step=1, key="top_n")

money = {"currency": None if currency == "All" else currency, "reporting_currency": reporting_currency}
# the default range is the whole range: sent as no bound, so panels read their pre-aggregates whole
filters = {
    "date_from": unbounded(date_from, first, is_first=True),
    "date_to": unbounded(date_to, last_date, is_first=False),
    **money,
}

guarded("Headline", headline_panel, filters)
st.subheader("Sales value by month")
guarded("Sales value by month", sales_by_month_panel, filters)
st.subheader("Top designs")
guarded("Top designs", top_designs_panel, filters, int(top_n))
st.subheader("Sales by counterparty country and city")
guarded("Sales by counterparty country and city", paged, "sales_by_location", "location", filters)
st.subheader("Staff leaderboard")
guarded("Staff leaderboard", paged, "staff_leaderboard", "staff", filters)
st.subheader("Purchases against sales, by month")
guarded("Purchases against sales", purchases_vs_sales_panel, filters)
st.subheader("Outstanding payments: unpaid and past their payment date")
guarded("Outstanding payments", outstanding_panel, money)
st.subheader("History of one order")
guarded("History of one order", order_history_panel, reporting_currency)

# ---- timings
total = sum(x.seconds for x in TIMINGS)
with st.expander(f"Query timings: {len(TIMINGS)} queries, {total * 1000:.0f} ms in all"):
    st.dataframe(
        pl.DataFrame(
            {
                "query": [x.name for x in TIMINGS],
                "ms": [round(x.seconds * 1000, 1) for x in TIMINGS],
                "rows": [x.frame.height for x in TIMINGS],
            }
        ),
        hide_index=True,
    )
log.info("page rendered: %d queries in %.1f ms", len(TIMINGS), total * 1000)
