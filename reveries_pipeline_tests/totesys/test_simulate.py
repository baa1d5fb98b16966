"""simulate_step / run_simulation against a seeded real PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import psycopg
import pytest

from reveries_pipeline.totesys.schema import TOTESYS_TABLES
from reveries_pipeline.totesys.seed import seed_totesys
from reveries_pipeline.totesys.simulate import run_simulation, simulate_step

ALWAYS = {"address": 1.0, "department": 1.0, "design": 1.0, "staff": 1.0}
NEVER = {"address": 0.0, "department": 0.0, "design": 0.0, "staff": 0.0}


@pytest.fixture
def seeded_dsn(totesys_dsn):
    seed_totesys(totesys_dsn, scale=0.1, seed=3)
    return totesys_dsn


def _state(conn) -> dict[str, tuple[int, datetime]]:
    query = 'SELECT count(*), max(last_updated) FROM "{}"'
    return {t: conn.execute(query.format(t)).fetchone() for t in TOTESYS_TABLES}


def _last_updated(conn, table: str) -> dict[int, datetime]:
    return dict(conn.execute(f'SELECT "{table}_id", last_updated FROM "{table}"').fetchall())


def test_step_inserts_orders_flips_paid_and_bumps_last_updated(seeded_dsn):
    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        before = _state(conn)
        prev = {t: _last_updated(conn, t) for t in ("payment", "address", "department")}
        unpaid_before = {r[0] for r in conn.execute("SELECT payment_id FROM payment WHERE NOT paid")}
        changes = simulate_step(conn, np.random.default_rng(1), orders=6, probabilities=ALWAYS)
        after = _state(conn)

        assert changes["sales_order"] + changes["purchase_order"] == 6
        assert changes["transaction"] == 6
        assert changes["payments_paid"] >= 1
        assert changes["payment"] == 6 + changes["payments_paid"]
        assert changes["address"] == changes["department"] == changes["design"] == changes["staff"] == 1
        for t in ("sales_order", "purchase_order", "transaction", "payment", "design", "staff"):
            inserted = changes[t] - (changes["payments_paid"] if t == "payment" else 0)
            assert after[t][0] == before[t][0] + inserted, t
        for t, n in changes.items():
            if t in after and n:
                assert after[t][1] > before[t][1], t  # change capture on max(last_updated) sees it

        # Every new order has exactly one transaction and one unpaid payment of quantity x price.
        new_sales = conn.execute(
            "SELECT s.units_sold * s.unit_price = p.payment_amount AND p.payment_type_id = 1 AND NOT p.paid"
            " AND p.payment_date = s.agreed_payment_date AND t.transaction_type = 'SALE'"
            " FROM sales_order s JOIN transaction t USING (sales_order_id)"
            " JOIN payment p USING (transaction_id)"
            " WHERE s.sales_order_id > %s",
            (before["sales_order"][0],),
        ).fetchall()
        new_purchases = conn.execute(
            "SELECT o.item_quantity * o.item_unit_price = p.payment_amount AND p.payment_type_id = 3"
            " AND NOT p.paid AND t.transaction_type = 'PURCHASE' FROM purchase_order o"
            " JOIN transaction t USING (purchase_order_id) JOIN payment p USING (transaction_id)"
            " WHERE o.purchase_order_id > %s",
            (before["purchase_order"][0],),
        ).fetchall()
        assert len(new_sales) == changes["sales_order"] and len(new_purchases) == changes["purchase_order"]
        assert all(r[0] for r in new_sales + new_purchases)

        # Updated rows: their last_updated moved forward; untouched rows kept theirs.
        for t in ("payment", "address", "department"):
            now_lu = _last_updated(conn, t)
            moved = [i for i, lu in prev[t].items() if now_lu[i] != lu]
            assert len(moved) == (changes["payments_paid"] if t == "payment" else 1), t
            assert all(now_lu[i] > prev[t][i] for i in moved), t
        flipped = {r[0] for r in conn.execute("SELECT payment_id FROM payment WHERE paid")} & unpaid_before
        assert len(flipped) == changes["payments_paid"]
        # The tick's time has millisecond precision (timestamp(3)).
        assert after["sales_order"][1].microsecond % 1000 == 0


def test_step_uses_given_time_and_quiet_ticks_touch_only_orders(seeded_dsn):
    now = datetime(2030, 1, 2, 3, 4, 5, 678_901)
    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        before = _state(conn)
        changes = simulate_step(conn, np.random.default_rng(2), now=now, orders=3, probabilities=NEVER)
        after = _state(conn)
    assert changes["address"] == changes["department"] == changes["design"] == changes["staff"] == 0
    for t in ("address", "department", "design", "staff", "currency", "counterparty"):
        assert after[t] == before[t], t
    assert after["transaction"][1] == datetime(2030, 1, 2, 3, 4, 5, 678_000)
    assert after["payment"][0] == before["payment"][0] + 3


def test_step_rolls_back_as_one_transaction(seeded_dsn):
    with psycopg.connect(seeded_dsn, autocommit=True) as conn:
        before = _state(conn)
        last = before["payment"][0]
        conn.execute(f"ALTER TABLE payment ADD CONSTRAINT no_new CHECK (payment_id <= {last})")
        with pytest.raises(psycopg.errors.CheckViolation):
            simulate_step(conn, np.random.default_rng(4), orders=2, probabilities=NEVER)
        for t in ("sales_order", "purchase_order", "transaction"):
            assert _state(conn)[t] == before[t], t


def test_run_simulation_ticks(seeded_dsn):
    ticks: list[tuple[int, dict[str, int]]] = []
    with psycopg.connect(seeded_dsn) as conn:
        n_before = conn.execute("SELECT count(*) FROM transaction").fetchone()[0]
    run_simulation(seeded_dsn, interval_s=0.01, iterations=3, seed=5, on_tick=lambda i, c: ticks.append((i, c)))
    assert [i for i, _ in ticks] == [1, 2, 3]
    with psycopg.connect(seeded_dsn) as conn:
        n_after = conn.execute("SELECT count(*) FROM transaction").fetchone()[0]
        orphans = conn.execute(
            "SELECT count(*) FROM transaction t LEFT JOIN payment p USING (transaction_id) WHERE p.payment_id IS NULL"
        ).fetchone()[0]
    assert n_after - n_before == sum(c["transaction"] for _, c in ticks) == 15
    assert orphans == 0
