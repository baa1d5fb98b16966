"""Live changes to a seeded totesys: each tick places new orders (each with its transaction and payment),
marks some unpaid payments paid and, now and then, edits an address, moves a department, adds a design or
hires someone. Every row inserted or updated gets last_updated = the tick's time, so change capture on
last_updated sees it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import psycopg
from psycopg import sql

from reveries_pipeline.totesys.dimension_rows import design_file_name, staff_email
from reveries_pipeline.totesys.vocabulary import (
    CITIES,
    CURRENCIES,
    DESIGN_WORDS,
    FILE_LOCATIONS,
    FIRST_NAMES,
    LAST_NAMES,
)

# Chance per tick of each occasional event.
EVENT_PROBABILITIES: dict[str, float] = {"address": 0.2, "department": 0.05, "design": 0.3, "staff": 0.05}
SALES_SHARE = 0.7
DEPARTMENT_LOCATIONS = ("Manchester", "Leeds", "Sheffield", "Liverpool", "York")

Changes = dict[str, int]


def _clock(now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(UTC).replace(tzinfo=None)
    elif now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)  # timestamp(3)


def _ids(conn: psycopg.Connection, table: str) -> list[int]:
    query = sql.SQL("SELECT {} FROM {} ORDER BY 1").format(sql.Identifier(f"{table}_id"), sql.Identifier(table))
    return [r[0] for r in conn.execute(query)]


def _choice(rng: np.random.Generator, ids: list[int]) -> int:
    return ids[int(rng.integers(len(ids)))]


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _dates(rng: np.random.Generator, now: datetime) -> tuple[str, str]:
    return tuple((now + timedelta(days=int(rng.integers(0, 8)))).strftime("%Y-%m-%d") for _ in range(2))


def _payment(conn, rng, now, transaction_id, counterparty_id, amount, currency_id, type_id, pay_date) -> None:
    conn.execute(
        "INSERT INTO payment (created_at, last_updated, transaction_id, counterparty_id, payment_amount,"
        " currency_id, payment_type_id, paid, payment_date, company_ac_number, counterparty_ac_number)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, false, %s, %s, %s)",
        (
            now,
            now,
            transaction_id,
            counterparty_id,
            amount,
            currency_id,
            type_id,
            pay_date,
            int(rng.integers(10_000_000, 100_000_000)),
            int(rng.integers(10_000_000, 100_000_000)),
        ),
    )


def _new_transaction(conn: psycopg.Connection, kind: str, order_column: str, order_id: int, now: datetime) -> int:
    query = sql.SQL(
        "INSERT INTO transaction (transaction_type, {}, created_at, last_updated) VALUES (%s, %s, %s, %s)"
        " RETURNING transaction_id"
    ).format(sql.Identifier(order_column))
    return conn.execute(query, (kind, order_id, now, now)).fetchone()[0]


def _new_sale(conn, rng, now, ids: dict[str, list[int]], terms: tuple) -> None:
    counterparty, currency, delivery, pay_date = terms
    units, cents = int(rng.integers(1_000, 100_001)), int(rng.integers(200, 401))
    # the draws happen in argument order: keep it, so a seed keeps giving the same changes
    (order_id,) = conn.execute(
        "INSERT INTO sales_order (created_at, last_updated, design_id, staff_id, counterparty_id,"
        " units_sold, unit_price, currency_id, agreed_delivery_date, agreed_payment_date,"
        " agreed_delivery_location_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING sales_order_id",
        (
            now,
            now,
            _choice(rng, ids["design"]),
            _choice(rng, ids["staff"]),
            counterparty,
            units,
            _money(cents),
            currency,
            delivery,
            pay_date,
            _choice(rng, ids["address"]),
        ),
    ).fetchone()
    transaction_id = _new_transaction(conn, "SALE", "sales_order_id", order_id, now)
    _payment(conn, rng, now, transaction_id, counterparty, _money(units * cents), currency, 1, pay_date)


def _new_purchase(conn, rng, now, ids: dict[str, list[int]], terms: tuple) -> None:
    counterparty, currency, delivery, pay_date = terms
    qty, cents = int(rng.integers(1, 1_000)), int(rng.integers(300, 100_001))
    code = "".join(
        chr(c) for c in np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", np.uint8)[rng.integers(0, 36, 7)]
    )
    (order_id,) = conn.execute(
        "INSERT INTO purchase_order (created_at, last_updated, staff_id, counterparty_id, item_code,"
        " item_quantity, item_unit_price, currency_id, agreed_delivery_date, agreed_payment_date,"
        " agreed_delivery_location_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " RETURNING purchase_order_id",
        (
            now,
            now,
            _choice(rng, ids["staff"]),
            counterparty,
            code,
            qty,
            _money(cents),
            currency,
            delivery,
            pay_date,
            _choice(rng, ids["address"]),
        ),
    ).fetchone()
    transaction_id = _new_transaction(conn, "PURCHASE", "purchase_order_id", order_id, now)
    _payment(conn, rng, now, transaction_id, counterparty, _money(qty * cents), currency, 3, pay_date)


def _new_orders(conn: psycopg.Connection, rng: np.random.Generator, now: datetime, orders: int) -> Changes:
    """`orders` new orders, about SALES_SHARE of them sales, each with its transaction and payment."""
    ids = {table: _ids(conn, table) for table in ("staff", "counterparty", "address", "design")}
    n_sales = int(rng.binomial(orders, SALES_SHARE))
    for i in range(orders):
        counterparty = _choice(rng, ids["counterparty"])
        currency = int(rng.integers(1, len(CURRENCIES) + 1))
        terms = (counterparty, currency, *_dates(rng, now))
        (_new_sale if i < n_sales else _new_purchase)(conn, rng, now, ids, terms)
    return {"sales_order": n_sales, "purchase_order": orders - n_sales, "transaction": orders, "payment": orders}


def _pay_some(conn: psycopg.Connection, rng: np.random.Generator, now: datetime, k: int) -> int:
    """Mark up to k unpaid payments paid, picked at random positions along the id range."""
    (max_id,) = conn.execute("SELECT COALESCE(max(payment_id), 0) FROM payment").fetchone()
    picked: set[int] = set()
    for _ in range(k if max_id else 0):
        start = int(rng.integers(1, max_id + 1))
        row = conn.execute(
            "SELECT payment_id FROM payment WHERE payment_id >= %s AND NOT paid AND NOT payment_id = ANY(%s)"
            " ORDER BY payment_id LIMIT 1",
            (start, list(picked)),
        ).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT payment_id FROM payment WHERE NOT paid AND NOT payment_id = ANY(%s)"
                " ORDER BY payment_id LIMIT 1",
                (list(picked),),
            ).fetchone()
        if row is None:
            break
        picked.add(row[0])
    if not picked:
        return 0
    return conn.execute(
        "UPDATE payment SET paid = true, last_updated = %s WHERE payment_id = ANY(%s) AND NOT paid",
        (now, sorted(picked)),
    ).rowcount


def _edit_address(conn, rng, now) -> int:
    ids = _ids(conn, "address")
    if not ids:
        return 0
    phone = f"{rng.integers(1000, 10_000)} {rng.integers(100_000, 1_000_000)}"
    city = CITIES[int(rng.integers(len(CITIES)))]
    return conn.execute(
        "UPDATE address SET phone = %s, city = %s, last_updated = %s WHERE address_id = %s",
        (phone, city, now, _choice(rng, ids)),
    ).rowcount


def _move_department(conn, rng, now) -> int:
    rows = conn.execute("SELECT department_id, location FROM department ORDER BY 1").fetchall()
    if not rows:
        return 0
    dep_id, location = rows[int(rng.integers(len(rows)))]
    others = [c for c in DEPARTMENT_LOCATIONS if c != location]
    return conn.execute(
        "UPDATE department SET location = %s, last_updated = %s WHERE department_id = %s",
        (others[int(rng.integers(len(others)))], now, dep_id),
    ).rowcount


def _new_design(conn, rng, now) -> int:
    word = DESIGN_WORDS[int(rng.integers(len(DESIGN_WORDS)))]
    letters = "".join(chr(97 + int(c)) for c in rng.integers(0, 26, 4))
    conn.execute(
        "INSERT INTO design (created_at, design_name, file_location, file_name, last_updated)"
        " VALUES (%s, %s, %s, %s, %s)",
        (
            now,
            word,
            FILE_LOCATIONS[int(rng.integers(len(FILE_LOCATIONS)))],
            design_file_name(word, now.strftime("%Y%m%d"), letters),
            now,
        ),
    )
    return 1


def _new_staff(conn, rng, now) -> int:
    departments = _ids(conn, "department")
    if not departments:
        return 0
    first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
    last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
    conn.execute(
        "INSERT INTO staff (first_name, last_name, department_id, email_address, created_at, last_updated)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (first, last, _choice(rng, departments), staff_email(first, last), now, now),
    )
    return 1


_EVENTS = {"address": _edit_address, "department": _move_department, "design": _new_design, "staff": _new_staff}


def simulate_step(
    conn: psycopg.Connection,
    rng: np.random.Generator,
    now: datetime | None = None,
    orders: int = 5,
    *,
    probabilities: Mapping[str, float] | None = None,
) -> Changes:
    """Apply one tick of live changes in one transaction.

    Returns rows changed (inserted or updated) per table - sales_order, purchase_order, transaction,
    payment, address, department, design, staff - plus "payments_paid", how many payments were flipped
    to paid (also counted under "payment"). `probabilities` overrides EVENT_PROBABILITIES per event.
    """
    now = _clock(now)
    chances = {**EVENT_PROBABILITIES, **(probabilities or {})}
    with conn.transaction():
        # Payments settle at about the rate orders arrive (the seeded share paid is ~70%).
        paid = _pay_some(conn, rng, now, max(1, int(rng.binomial(2 * orders, SALES_SHARE / 2))))
        changes = (
            _new_orders(conn, rng, now, orders)
            if orders > 0
            else {"sales_order": 0, "purchase_order": 0, "transaction": 0, "payment": 0}
        )
        changes["payment"] += paid
        changes["payments_paid"] = paid
        for event, apply in _EVENTS.items():
            changes[event] = apply(conn, rng, now) if rng.random() < chances[event] else 0
    return changes


def run_simulation(
    dsn: str,
    interval_s: float = 5.0,
    iterations: int | None = None,
    seed: int | None = None,
    on_tick: Callable[[int, Changes], None] | None = None,
) -> None:
    """Run simulate_step every interval_s seconds, `iterations` times or (None) until interrupted."""
    rng = np.random.default_rng(seed)
    tick = 0
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while iterations is None or tick < iterations:
                changes = simulate_step(conn, rng)
                tick += 1
                if on_tick is not None:
                    on_tick(tick, changes)
                if iterations is None or tick < iterations:
                    time.sleep(interval_s)
    except KeyboardInterrupt:
        return
