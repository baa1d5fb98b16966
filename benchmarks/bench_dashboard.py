"""Time every dashboard panel query against a warehouse, print a table and a pass/fail line against the
targets (every panel <= 150 ms, all of them together <= 1 s; warm caches, no answer cache).

    DASHBOARD_DSN=postgresql://... python -m benchmarks.bench_dashboard [--repeat 5] [--currency GBP]
        [--reporting-currency EUR] [--date-from 2022-01-01 --date-to 2022-12-31] [--explain]

Without --dsn it connects as the dashboard does (DASHBOARD_DSN, else the embedded default's read-only
role). Dates are passed as the page passes them: no bound unless given (the default view is the whole
range, which the page sends as no bound). Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date

import psycopg

from reveries_pipeline.dashboard import queries as q
from reveries_pipeline.dashboard.connection import dashboard_dsn

PAGE = {"limit": 25, "offset": 0}
PANEL_TARGET_MS = 150.0
TOTAL_TARGET_MS = 1000.0


def panel_params(conn: psycopg.Connection, args: argparse.Namespace) -> dict[str, dict]:
    money = {"currency": args.currency, "reporting_currency": args.reporting_currency}
    filters = {"date_from": args.date_from, "date_to": args.date_to, **money}
    latest = q.run_query(conn, "latest_order")
    order_id = int(latest["sales_order_id"][0]) if latest.height else 1
    return {
        "last_loaded": {},
        "currencies": {},
        "date_bounds": {},
        "headline": filters,
        "sales_by_month": filters,
        "top_designs_by_value": {**filters, "limit": 10},
        "top_designs_by_units": {**filters, "limit": 10},
        "sales_by_location": {**filters, **PAGE},
        "staff_leaderboard": {**filters, **PAGE},
        "outstanding_payments": {"as_of": args.as_of, **money},
        "purchases_vs_sales": filters,
        "latest_order": {},
        "order_history": {"sales_order_id": order_id, "reporting_currency": args.reporting_currency},
    }


def verdict(medians: dict[str, float]) -> tuple[bool, str]:
    """Whether the medians meet the targets, and a line that says so."""
    slow = [f"{name} {ms:.1f} ms" for name, ms in medians.items() if ms > PANEL_TARGET_MS]
    total = sum(medians.values())
    ok = not slow and total <= TOTAL_TARGET_MS
    line = (
        f"{'PASS' if ok else 'FAIL'}: slowest panel {max(medians.values()):.1f} ms (target <= {PANEL_TARGET_MS:.0f}),"
        f" all panels {total:.1f} ms (target <= {TOTAL_TARGET_MS:.0f})"
    )
    return ok, line + (f"; over the panel target: {', '.join(slow)}" if slow else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="warehouse DSN (default: the dashboard's, DASHBOARD_DSN or the embedded role)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each query (default 5)")
    parser.add_argument("--currency", help="the currency filter (default: none, i.e. All)")
    parser.add_argument(
        "--reporting-currency", choices=q.REPORTING_CURRENCIES, default="GBP", help="the currency values are shown in"
    )
    parser.add_argument("--date-from", type=date.fromisoformat, help="first day of the range (YYYY-MM-DD)")
    parser.add_argument("--date-to", type=date.fromisoformat, help="last day of the range (YYYY-MM-DD)")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, help="the day outstanding payments are counted at (YYYY-MM-DD)"
    )
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each query")
    args = parser.parse_args(argv)
    dsn = args.dsn or dashboard_dsn()

    with psycopg.connect(dsn, autocommit=True) as conn:
        if not q.warehouse_ready(conn):
            print("the warehouse schema (current tables, pre-aggregates) does not exist at that DSN", file=sys.stderr)
            return 1
        sizes = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # nosec B608: fixed table names
            for t in ("fact_sales_order_current", "fact_purchase_order_current", "fact_payment_current")
        }
        print("rows: " + ", ".join(f"{t}={n:,}" for t, n in sizes.items()))
        params = panel_params(conn, args)
        print(f"{'query':<22} {'rows':>6} {'min ms':>9} {'median ms':>10} {'max ms':>9}")
        medians: dict[str, float] = {}
        for name in q.QUERY_NAMES:
            runs = [q.timed_query(conn, name, **params[name]) for _ in range(max(1, args.repeat))]
            ms = [r.seconds * 1000 for r in runs]
            medians[name] = statistics.median(ms)
            print(f"{name:<22} {runs[-1].frame.height:>6} {min(ms):>9.1f} {medians[name]:>10.1f} {max(ms):>9.1f}")
            if args.explain:
                bound = {p: params[name].get(p) for p in q.query_parameters(name)}
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + q.load_query(name), bound).fetchall()
                print("\n".join("    " + r[0] for r in plan))
        print(f"{'page total (medians)':<22} {'':>6} {'':>9} {sum(medians.values()):>10.1f}")
        ok, line = verdict(medians)
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
