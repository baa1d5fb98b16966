"""The current tables and pre-aggregates the loader keeps by difference (warehouse/reporting.py): after
any sequence of loads (new orders, new versions, late older versions, deletes of the current or an
older version, re-inserts, replayed batches) and FX-rate changes, they equal what a recompute from the
whole history gives."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl
import psycopg

from reveries_pipeline.warehouse import checks
from reveries_pipeline.warehouse.fx_rates_store import store_rates
from reveries_pipeline.warehouse.loader import load_batch
from reveries_pipeline.warehouse.schema import apply_warehouse_ddl
from reveries_pipeline_tests.warehouse.aggregates_oracle import aggregate_mismatches
from reveries_pipeline_tests.warehouse.frames import DAY0, sales_frame, seed_dimensions
from reveries_pipeline_tests.warehouse.test_deletes import MARKERS, marker_frame

DAYS = [DAY0 + dt.timedelta(days=i) for i in range(6)]


def _rates(day_rates: dict[dt.date, tuple[str, str]]) -> pl.DataFrame:
    rows = [
        (code, day, day, Decimal(rate))
        for day, (gbp, usd) in day_rates.items()
        for code, rate in (("GBP", gbp), ("USD", usd), ("EUR", "1"))
    ]
    return pl.DataFrame(
        rows,
        schema={
            "currency_code": pl.String,
            "rate_day": pl.Date,
            "rate_date": pl.Date,
            "units_per_eur": pl.Decimal(18, 6),
        },
        orient="row",
    )


def _random_versions(rng: random.Random, clock: list[int]) -> list[dict]:
    """A batch of new versions of random orders: mostly newer, sometimes a late older one."""
    rows = []
    for _ in range(rng.randint(1, 8)):
        clock[0] += 1
        minute = clock[0] if rng.random() > 0.15 else rng.randint(0, clock[0])  # a late, older version
        rows.append(
            {
                "sales_order_id": rng.randint(1, 12),
                "created_date": rng.choice(DAYS),
                "last_updated_date": DAY0 + dt.timedelta(days=minute // 1440),
                "last_updated_time": dt.time((minute // 60) % 24, minute % 60),
                "units_sold": rng.randint(1, 50),
                "unit_price": Decimal(rng.randint(1, 99999)) / 100,
                "currency_id": rng.choice([1, 2]),
                "design_id": rng.choice([1, 2]),
                "sales_staff_id": rng.choice([1, 2]),
            }
        )
    return rows


def _some_versions(conn: psycopg.Connection, rng: random.Random) -> list[tuple]:
    """Markers for a current version or an older one of a random order."""
    rows = conn.execute(
        "SELECT 'fact_sales_order', sales_order_id, last_updated_date, last_updated_time FROM fact_sales_order"
    ).fetchall()
    return rng.sample(rows, k=min(len(rows), rng.randint(1, 3)))


def test_current_tables_and_aggregates_equal_a_recompute_after_every_step(warehouse_dsn):
    rng, clock = random.Random(19), [0]
    with psycopg.connect(warehouse_dsn) as conn:
        apply_warehouse_ddl(conn)
        seed_dimensions(conn)
        store_rates(conn, _rates({d: ("0.85", "1.08") for d in DAYS[:-1]}), DAYS[0], DAYS[-1])  # last day: none
        conn.commit()
        loaded: list[tuple[str, str, pl.DataFrame]] = []
        for step in range(40):
            roll = rng.random()
            if roll < 0.55 or not loaded:
                batch = ("fact_sales_order", f"sales/{step}", sales_frame(_random_versions(rng, clock)))
            elif roll < 0.75:
                batch = (MARKERS, f"markers/{step}", marker_frame(_some_versions(conn, rng)))
            elif roll < 0.9:
                batch = rng.choice(loaded)  # a replayed batch: a no-op in the ledger
            else:  # the FX rates change, as their IO manager stores them
                day = rng.choice(DAYS[:-1])  # the last day keeps no rate
                store_rates(conn, _rates({day: (f"0.8{rng.randint(0, 9)}", "1.1")}), day, day)
                batch = None
            if batch is not None:
                load_batch(conn, *batch)
                loaded.append(batch)
            conn.commit()

            current = checks.current_matches_history(conn, "fact_sales_order")
            assert current.passed, (step, current.metadata)
            assert aggregate_mismatches(conn) == [], step
        (deleted_now,) = conn.execute(
            "SELECT count(*) FROM fact_sales_order_current AS c JOIN reveries_deleted_rows AS d"
            " ON d.natural_id = c.sales_order_id AND d.version_date = c.last_updated_date"
            " AND d.version_time = c.last_updated_time"
        ).fetchone()
        assert deleted_now == 0
        # the walk did reach what it is meant to test
        assert conn.execute("SELECT count(*) FROM reveries_deleted_rows").fetchone()[0] > 0
        (unconverted,) = conn.execute("SELECT sum(unconverted_rows) FROM reporting_sales_by_day").fetchone()
        assert unconverted > 0
