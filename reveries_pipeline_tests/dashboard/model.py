"""The dashboard's answers worked out in Python from the hand-made warehouse's rows (warehouse_fixture.py),
never by running SQL: which version of each order is current, its value, its rate (looked up in the
fixture's RATES dict), the conversion through EUR in Decimal arithmetic, rounded once at the end.

Filters are a dict like the queries' parameters: date_from, date_to, currency (None or "all" = no filter);
`reporting` is the reporting currency (None = GBP). With no currency filter money is converted and the
rows without a rate are counted as unconverted; with one, money is that currency's native sum.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

from reveries_pipeline_tests.dashboard.warehouse_fixture import (
    COUNTERPARTIES,
    CURRENCIES,
    DESIGNS,
    PAYMENTS,
    PURCHASES,
    RATES,
    SALES,
    STAFF,
)

CENT = Decimal("0.01")


def current(rows, id_index: int, key) -> list[tuple]:
    """The newest version per natural id: greatest (last_updated_date, last_updated_time, record_id)."""
    best: dict[int, tuple] = {}
    for row in rows:
        if row[id_index] not in best or key(row) > key(best[row[id_index]]):
            best[row[id_index]] = row
    return list(best.values())


def current_sales() -> list[tuple]:
    return current(SALES, 1, lambda r: (r[3], r[4], r[0]))


def current_purchases() -> list[tuple]:
    return current(PURCHASES, 1, lambda r: (r[3], r[4], r[0]))


def current_payments() -> list[tuple]:
    return current(PAYMENTS, 1, lambda r: (r[3], r[4], r[0]))


def units_per_eur(code: str, day: date, rates=None) -> Decimal | None:
    """How many units of `code` one euro bought on `day` (the carried-forward rate on a day off); None
    when the day has no rate."""
    entry = (RATES if rates is None else rates).get(day)
    if entry is None:
        return None
    _, gbp, usd = entry
    return {"EUR": Decimal(1), "GBP": gbp, "USD": usd}[code]


def convert(value: Decimal, code: str, day: date, to: str, rates=None) -> Decimal | None:
    """`value` in `code` on `day`, in `to`, through EUR; unrounded. None when the day has no rate."""
    source, target = units_per_eur(code, day, rates), units_per_eur(to, day, rates)
    if source is None or target is None:
        return None
    with localcontext() as ctx:
        ctx.prec = 50
        return value / source * target


def cents(value: Decimal) -> Decimal:
    """Rounded once, half away from zero, as PostgreSQL's round(numeric, 2)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def currency_filter(f: dict) -> str | None:
    code = f.get("currency")
    return None if code in (None, "", "all") else code


def in_dates(created: date, f: dict) -> bool:
    return (f.get("date_from") is None or created >= f["date_from"]) and (
        f.get("date_to") is None or created <= f["date_to"]
    )


@dataclass
class Sums:
    """What a group of rows adds up to: orders, units, money (unrounded) and rows left unconverted."""

    orders: int = 0
    units: int = 0
    money: Decimal = field(default_factory=Decimal)
    unconverted: int = 0


@dataclass(frozen=True)
class Row:
    """One current order or payment, as the panels see it."""

    created: date
    code: str
    units: int
    value: Decimal
    source: tuple


def sales_rows() -> list[Row]:
    return [Row(r[2], CURRENCIES[r[9]], r[7], r[7] * r[8], r) for r in current_sales()]


def purchase_rows() -> list[Row]:
    return [Row(p[2], CURRENCIES[p[10]], p[8], p[8] * p[9], p) for p in current_purchases()]


def add(sums: Sums, row: Row, f: dict, reporting: str | None, rates=None) -> None:
    """Add `row` to `sums` as the filter shows it: native under a currency filter, else converted."""
    sums.orders += 1
    sums.units += row.units
    if currency_filter(f):
        sums.money += row.value
        return
    converted = convert(row.value, row.code, row.created, reporting or "GBP", rates)
    if converted is None:
        sums.unconverted += 1
    else:
        sums.money += converted


def group(
    rows: Iterable[Row], f: dict, reporting: str | None, key: Callable[[Row], object], rates=None
) -> dict[object, Sums]:
    """The rows in the filter (dates and currency), summed per key."""
    acc: dict[object, Sums] = defaultdict(Sums)
    code = currency_filter(f)
    for row in rows:
        if in_dates(row.created, f) and (code is None or row.code == code):
            add(acc[key(row)], row, f, reporting, rates)
    return acc


def shown_in(f: dict, reporting: str | None) -> str:
    return currency_filter(f) or reporting or "GBP"


def unconverted(f: dict, sums: Sums) -> int:
    return 0 if currency_filter(f) else sums.unconverted


# ---------------------------------------------------------------- the panels


def headline(f: dict, reporting: str | None = None, rates=None) -> list[dict]:
    s = group(sales_rows(), f, reporting, lambda r: None, rates).get(None, Sums())
    return [
        {
            "sales_value": cents(s.money),
            "orders": s.orders,
            "units_sold": s.units,
            "shown_in": shown_in(f, reporting),
            "unconverted_orders": unconverted(f, s),
        }
    ]


def sales_by_month(f: dict, reporting: str | None = None, rates=None) -> list[dict]:
    acc = group(sales_rows(), f, reporting, lambda r: r.created.replace(day=1), rates)
    return [
        {
            "month": m,
            "sales_value": cents(s.money),
            "orders": s.orders,
            "units_sold": s.units,
            "shown_in": shown_in(f, reporting),
            "unconverted_orders": unconverted(f, s),
        }
        for m, s in sorted(acc.items())
    ]


def designs(f: dict, reporting: str | None = None, *, by: str = "value", rates=None) -> list[dict]:
    acc = group(sales_rows(), f, reporting, lambda r: r.source[10], rates)
    found = [
        {
            "design_id": d,
            "design_name": DESIGNS[d],
            "sales_value": cents(s.money),
            "units_sold": s.units,
            "orders": s.orders,
            "shown_in": shown_in(f, reporting),
            "unconverted_orders": unconverted(f, s),
        }
        for d, s in acc.items()
    ]
    if by == "value":
        return sorted(found, key=lambda d: (-d["sales_value"], -d["units_sold"], d["design_id"]))
    return sorted(found, key=lambda d: (-d["units_sold"], -d["sales_value"], d["design_id"]))


def locations(f: dict, reporting: str | None = None, rates=None) -> list[dict]:
    acc = group(sales_rows(), f, reporting, lambda r: COUNTERPARTIES[r.source[6]][:0:-1], rates)
    full = [
        {
            "country": country,
            "city": city,
            "sales_value": cents(s.money),
            "orders": s.orders,
            "units_sold": s.units,
            "shown_in": shown_in(f, reporting),
            "unconverted_orders": unconverted(f, s),
            "total_rows": len(acc),
        }
        for (country, city), s in acc.items()
    ]
    return sorted(full, key=lambda r: (-r["sales_value"], r["country"], r["city"]))


def staff(f: dict, reporting: str | None = None, rates=None) -> list[dict]:
    acc = group(sales_rows(), f, reporting, lambda r: r.source[5], rates)
    values = [cents(s.money) for s in acc.values()]
    board = [
        {
            "rank": 1 + sum(1 for v in values if v > cents(s.money)),
            "staff_id": sid,
            "staff_name": f"{STAFF[sid][0]} {STAFF[sid][1]}",
            "department_name": STAFF[sid][2],
            "location": STAFF[sid][3],
            "sales_value": cents(s.money),
            "orders": s.orders,
            "units_sold": s.units,
            "shown_in": shown_in(f, reporting),
            "unconverted_orders": unconverted(f, s),
            "total_rows": len(acc),
        }
        for sid, s in acc.items()
    ]
    return sorted(board, key=lambda r: (-r["sales_value"], r["staff_id"]))


def purchases_vs_sales(f: dict, reporting: str | None = None, rates=None) -> list[dict]:
    sales = group(sales_rows(), f, reporting, lambda r: r.created.replace(day=1), rates)
    purchases = group(purchase_rows(), f, reporting, lambda r: r.created.replace(day=1), rates)
    return [
        {
            "month": m,
            "sales_value": cents(sales.get(m, Sums()).money),
            "purchase_value": cents(purchases.get(m, Sums()).money),
            "net_value": cents(sales.get(m, Sums()).money - purchases.get(m, Sums()).money),
            "shown_in": shown_in(f, reporting),
            "unconverted_orders": unconverted(f, sales.get(m, Sums())) + unconverted(f, purchases.get(m, Sums())),
        }
        for m in sorted(set(sales) | set(purchases))
    ]


BUCKETS = ((30, "0-30", 1), (60, "31-60", 2), (90, "61-90", 3))


def bucket(days: int) -> tuple[str, int]:
    return next(((name, order) for limit, name, order in BUCKETS if days <= limit), ("90+", 4))


def outstanding(as_of: date, currency: str | None = None, reporting: str | None = None, rates=None) -> list[dict]:
    """Unpaid current payments due before as_of, by ageing bucket; converted at the created date's rate."""
    f = {"currency": currency}
    rows = [
        (Row(p[2], CURRENCIES[p[8]], 0, p[7], p), p[11])
        for p in current_payments()
        if not p[10] and p[11] < as_of and (currency_filter(f) is None or CURRENCIES[p[8]] == currency)
    ]
    acc: dict[tuple, Sums] = defaultdict(Sums)
    oldest: dict[tuple, date] = {}
    for row, due in rows:
        key = bucket((as_of - due).days)
        add(acc[key], row, f, reporting, rates)
        oldest[key] = min(oldest.get(key, due), due)
    return [
        {
            "bucket": name,
            "bucket_order": order,
            "payments": s.orders,
            "amount": cents(s.money),
            "shown_in": shown_in(f, reporting),
            "unconverted_payments": unconverted(f, s),
            "oldest_payment_date": oldest[(name, order)],
        }
        for (name, order), s in sorted(acc.items(), key=lambda kv: kv[0][1])
    ]
