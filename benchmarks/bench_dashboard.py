"""Time every dashboard panel query against a warehouse and print a table.

    WAREHOUSE_DSN=postgresql://... python benchmarks/bench_dashboard.py [--repeat 5] [--currency GBP]
        [--date-from 2022-01-01 --date-to 2022-12-31] [--explain] [--no-indexes]

Without WAREHOUSE_DSN (or --dsn) it uses the embedded default's `warehouse` database. The dashboard's
read indexes (reveries_pipeline/dashboard/indexes.sql) are applied first unless --no-indexes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date

import psycopg

from reveries_pipeline.config import WAREHOUSE_DSN
from reveries_pipeline.dashboard import queries as q
from reveries_pipeline.embedded import dsn_or_embedded

PAGE = {"limit": 25, "offset": 0}


def panel_params(conn: psycopg.Connection, args: argparse.Namespace) -> dict[str, dict]:
    filters = {"date_from": args.date_from, "date_to": args.date_to, "currency": args.currency}
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
        "outstanding_payments": {"as_of": args.as_of},
        "purchases_vs_sales": filters,
        "latest_order": {},
        "order_history": {"sales_order_id": order_id},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="warehouse DSN (default: WAREHOUSE_DSN, else the embedded warehouse)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--currency")
    parser.add_argument("--date-from", type=date.fromisoformat)
    parser.add_argument("--date-to", type=date.fromisoformat)
    parser.add_argument("--as-of", type=date.fromisoformat)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each query")
    parser.add_argument("--no-indexes", action="store_true", help="do not apply dashboard/indexes.sql")
    args = parser.parse_args(argv)
    dsn = args.dsn or dsn_or_embedded(WAREHOUSE_DSN, "warehouse")

    with psycopg.connect(dsn, autocommit=True) as conn:
        if not q.warehouse_ready(conn):
            print("the warehouse schema does not exist at that DSN", file=sys.stderr)
            return 1
        if not args.no_indexes:
            q.apply_indexes(conn)
        sizes = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("fact_sales_order", "fact_purchase_order", "fact_payment", "reveries_load_ledger")
        }
        print("rows: " + ", ".join(f"{t}={n:,}" for t, n in sizes.items()))
        params = panel_params(conn, args)
        print(f"{'query':<22} {'rows':>6} {'min ms':>9} {'median ms':>10} {'max ms':>9}")
        total = 0.0
        for name in q.QUERY_NAMES:
            runs = [q.timed_query(conn, name, **params[name]) for _ in range(max(1, args.repeat))]
            ms = [r.seconds * 1000 for r in runs]
            total += statistics.median(ms)
            print(
                f"{name:<22} {runs[-1].frame.height:>6} {min(ms):>9.1f} {statistics.median(ms):>10.1f} {max(ms):>9.1f}"
            )
            if args.explain:
                bound = {p: params[name].get(p) for p in q.query_parameters(name)}
                plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + q.load_query(name), bound).fetchall()
                print("\n".join("    " + r[0] for r in plan))
        print(f"{'page total (medians)':<22} {'':>6} {'':>9} {total:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
