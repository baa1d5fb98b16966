"""Seed totesys with synthetic data shaped like the real snapshot (Nov 2024).

Everything is generated column-wise with numpy from one `np.random.default_rng(seed)` and streamed to
PostgreSQL with COPY (CSV chunks written by polars), so the same seed gives byte-identical tables and
scale 100 (over a million sales orders) loads in seconds. All timestamps derive from fixed epochs,
never from the clock.

Scale F multiplies the order side (design, sales_order, purchase_order, transaction, payment) by F over
the same date range; address/counterparty/staff grow with sqrt(F); currency/department/payment_type are
fixed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
import psycopg
from psycopg import sql

from reveries_pipeline.totesys.schema import PRIMARY_KEYS, TOTESYS_TABLES, apply_totesys_ddl
from reveries_pipeline.totesys.vocabulary import (
    CITIES,
    COMPANY_SUFFIXES,
    COUNTRIES,
    CURRENCIES,
    DEPARTMENTS,
    DESIGN_WORDS,
    DISTRICTS,
    FILE_LOCATIONS,
    FIRST_NAMES,
    LAST_NAMES,
    LINE_2,
    PAYMENT_TYPES,
    STREET_NAMES,
    STREET_SUFFIXES,
)

Progress = Callable[[str, int, int], None]

DAY_MS = 86_400_000


def _epoch_ms(iso: str) -> int:
    return int(np.datetime64(iso, "ms").astype(np.int64))


# The real data's first rows were created on 2022-11-03; the snapshot ends mid November 2024.
DIMENSIONS_CREATED_MS = _epoch_ms("2022-11-03T14:20:51.563")
ORDERS_START_MS = _epoch_ms("2022-11-03T14:20:52.186")
ORDERS_END_MS = _epoch_ms("2024-11-14T10:19:09.990")

# Row counts at scale 1.
SALES_ORDERS = 11_200
PURCHASE_ORDERS = 4_600
DESIGNS = 470
ADDRESSES = 30
COUNTERPARTIES = 20
STAFF = 20

PAID_SHARE = 0.70
EDITED_ORDER_SHARE = 0.10
CHUNK_ROWS = 200_000


def _scaled(base: int, factor: float, minimum: int = 1) -> int:
    return max(minimum, round(base * factor))


def table_sizes(scale: float) -> dict[str, int]:
    """The row counts seed_totesys produces at `scale` (payment/transaction = both order tables)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    root = math.sqrt(scale)
    sales = _scaled(SALES_ORDERS, scale)
    purchases = _scaled(PURCHASE_ORDERS, scale)
    return {
        "address": _scaled(ADDRESSES, root, 5),
        "counterparty": _scaled(COUNTERPARTIES, root, 3),
        "currency": len(CURRENCIES),
        "department": len(DEPARTMENTS),
        "design": _scaled(DESIGNS, scale, 12),
        "payment_type": len(PAYMENT_TYPES),
        "staff": _scaled(STAFF, root, 3),
        "sales_order": sales,
        "purchase_order": purchases,
        "transaction": sales + purchases,
        "payment": sales + purchases,
    }


# ---------------------------------------------------------------------------------------------- helpers


def _ts(ms: np.ndarray) -> pl.Series:
    return pl.Series(ms.astype(np.int64)).cast(pl.Datetime("ms"))


def _days(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def _pick(rng: np.random.Generator, values: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]


def _str(values) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String)


def _digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return rng.integers(10 ** (width - 1), 10**width, n)


def _unique_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    idx = rng.choice(len(pairs), size=min(n, len(pairs)), replace=False)
    names = [pairs[i] for i in idx]
    while len(names) < n:  # beyond the name grid: reuse with a numeric suffix on the first name
        f, last = pairs[int(rng.integers(len(pairs)))]
        names.append((f"{f}{len(names)}", last))
    return names


def _person(rng: np.random.Generator) -> str:
    return f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} {LAST_NAMES[rng.integers(len(LAST_NAMES))]}"


def _company(rng: np.random.Generator) -> str:
    a, b, c = (LAST_NAMES[i] for i in rng.integers(0, len(LAST_NAMES), 3))
    pattern = int(rng.integers(4))
    if pattern == 0:
        return f"{a} {COMPANY_SUFFIXES[rng.integers(len(COMPANY_SUFFIXES))]}"
    if pattern == 1:
        return f"{a}, {b} and {c}"
    if pattern == 2:
        return f"{a} - {b}"
    return f"{a} and {b}"


# ------------------------------------------------------------------------------------------ dimensions
# Every generator below draws from the one shared `rng`: the order of the draws (tables, then columns
# within a table) is part of what a seed means, so it must not change.


def _created_at_start(n: int) -> dict[str, pl.Series]:
    """created_at and last_updated of dimension rows: all there, unchanged, since the first day."""
    return {
        "created_at": _ts(np.full(n, DIMENSIONS_CREATED_MS)),
        "last_updated": _ts(np.full(n, DIMENSIONS_CREATED_MS)),
    }


def _sometimes(rng: np.random.Generator, values: tuple[str, ...], n: int, share: float) -> pl.Series:
    """A value from `values` in about `share` of the rows, null in the others (optional columns)."""
    return _str(np.where(rng.random(n) < share, _pick(rng, values, n), None))


def _street_lines(rng: np.random.Generator, n: int) -> list[str]:
    return [
        f"{num} {STREET_NAMES[s]} {STREET_SUFFIXES[x]}"
        for num, s, x in zip(
            rng.integers(1, 10_000, n),
            rng.integers(0, len(STREET_NAMES), n),
            rng.integers(0, len(STREET_SUFFIXES), n),
            strict=True,
        )
    ]


def _postal_codes(rng: np.random.Generator, n: int) -> list[str]:
    # Two shapes, as in a real address book: four in five are 12345, the rest 12345-6789.
    return [
        f"{p:05d}" if k else f"{p % 100:02d}{p // 100 % 1000:03d}-{p % 10_000:04d}"
        for p, k in zip(rng.integers(10_000, 100_000, n), rng.random(n) < 0.8, strict=True)
    ]


def _addresses(rng: np.random.Generator, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "address_id": np.arange(1, n + 1),
            "address_line_1": _street_lines(rng, n),
            "address_line_2": _sometimes(rng, LINE_2, n, 1 / 3),
            "district": _sometimes(rng, DISTRICTS, n, 0.5),
            "city": _str(_pick(rng, CITIES, n)),
            "postal_code": _postal_codes(rng, n),
            "country": _str(_pick(rng, COUNTRIES, n)),
            "phone": [f"{a} {b}" for a, b in zip(_digits(rng, n, 4), _digits(rng, n, 6), strict=True)],
            **_created_at_start(n),
        }
    )


def _unique_company_names(rng: np.random.Generator, n: int) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = _company(rng)
        if name not in names:
            names.append(name)
    return names


def _counterparties(rng: np.random.Generator, n: int, n_addresses: int) -> pl.DataFrame:
    # Several counterparties share one legal address (always the first two).
    legal = rng.integers(1, max(2, n_addresses * 2 // 3) + 1, n)
    if n > 1:
        legal[1] = legal[0]
    return pl.DataFrame(
        {
            "counterparty_id": np.arange(1, n + 1),
            "counterparty_legal_name": _unique_company_names(rng, n),
            "legal_address_id": legal,
            "commercial_contact": [_person(rng) for _ in range(n)],
            "delivery_contact": [_person(rng) for _ in range(n)],
            **_created_at_start(n),
        }
    )


def _reference_table(table: str, columns: dict[str, list[str]]) -> pl.DataFrame:
    """A fixed lookup table (currency, department, payment_type): the same rows at every scale and seed."""
    n = len(next(iter(columns.values())))
    return pl.DataFrame({f"{table}_id": np.arange(1, n + 1), **columns, **_created_at_start(n)})


def _staff(rng: np.random.Generator, n: int) -> pl.DataFrame:
    people = _unique_names(rng, n)
    return pl.DataFrame(
        {
            "staff_id": np.arange(1, n + 1),
            "first_name": [f for f, _ in people],
            "last_name": [last for _, last in people],
            "department_id": rng.integers(1, len(DEPARTMENTS) + 1, n),
            "email_address": [staff_email(f, last) for f, last in people],
            **_created_at_start(n),
        }
    )


def _dimensions(rng: np.random.Generator, sizes: dict[str, int]) -> dict[str, pl.DataFrame]:
    return {  # generated in this order (see above)
        "address": _addresses(rng, sizes["address"]),
        "counterparty": _counterparties(rng, sizes["counterparty"], sizes["address"]),
        "currency": _reference_table("currency", {"currency_code": list(CURRENCIES)}),
        "department": _reference_table(
            "department",
            {
                "department_name": [d[0] for d in DEPARTMENTS],
                "location": [d[1] for d in DEPARTMENTS],
                "manager": [d[2] for d in DEPARTMENTS],
            },
        ),
        "payment_type": _reference_table("payment_type", {"payment_type_name": list(PAYMENT_TYPES)}),
        "staff": _staff(rng, sizes["staff"]),
    }


def staff_email(first: str, last: str) -> str:
    """first.last@terrifictotes.com, lowercased, apostrophes removed."""
    return f"{first}.{last}@terrifictotes.com".lower().replace("'", "")


def design_file_name(word: str, day: str, letters: str) -> str:
    return f"{word.lower()}-{day}-{letters}.json"


def _designs(rng: np.random.Generator, n: int) -> tuple[pl.DataFrame, np.ndarray]:
    # A tenth of the catalogue exists from the start; the rest arrives steadily over the period.
    n0 = max(1, n // 10)
    span = ORDERS_END_MS - ORDERS_START_MS
    created = np.concatenate(
        [
            np.full(n0, DIMENSIONS_CREATED_MS, dtype=np.int64),
            np.sort(ORDERS_START_MS + rng.integers(0, span, n - n0)),
        ]
    )
    words = rng.integers(0, len(DESIGN_WORDS), n)
    word_s = pl.Series(np.asarray(DESIGN_WORDS, dtype=object)[words].astype(str))
    days = _days(created // DAY_MS).dt.strftime("%Y%m%d")
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype="S1")[rng.integers(0, 26, (n, 4))]
    letters_s = pl.Series(np.ascontiguousarray(letters).view("S4").ravel().astype("U4"))
    file_name = pl.select(
        pl.concat_str([word_s.str.to_lowercase(), days, letters_s], separator="-") + ".json"
    ).to_series()
    df = pl.DataFrame(
        {
            "design_id": np.arange(1, n + 1),
            "created_at": _ts(created),
            "design_name": word_s,
            "file_location": _pick(rng, FILE_LOCATIONS, n).astype(str),
            "file_name": file_name,
            "last_updated": _ts(created),
        }
    )
    return df, created


def _order_times(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """created_at (sorted, ms) and last_updated (a tenth edited later) for n orders."""
    created = np.sort(ORDERS_START_MS + rng.integers(0, ORDERS_END_MS - ORDERS_START_MS, n))
    edited = rng.random(n) < EDITED_ORDER_SHARE
    later = created + rng.integers(60_000, 3 * DAY_MS, n)
    updated = np.where(edited, np.maximum(np.minimum(later, ORDERS_END_MS), created + 1), created)
    return created, updated


# ---------------------------------------------------------------------------------------------- orders


@dataclass(frozen=True)
class _OrderTerms:
    """What orders agree with their counterparties, one array element per order: their transactions
    and payments are derived from these."""

    created: np.ndarray  # ms since the epoch
    amount_c: np.ndarray  # total in cents
    counterparty_id: np.ndarray
    currency_id: np.ndarray
    payment_day: np.ndarray  # days since the epoch


def _agree_terms(
    rng: np.random.Generator, created: np.ndarray, amount_c: np.ndarray, sizes: dict[str, int]
) -> _OrderTerms:
    n = len(created)
    counterparty_id = rng.integers(1, sizes["counterparty"] + 1, n)
    currency_id = rng.integers(1, len(CURRENCIES) + 1, n)
    payment_day = created // DAY_MS + rng.integers(0, 8, n)  # within a week of the order
    return _OrderTerms(created, amount_c, counterparty_id, currency_id, payment_day)


def _order_frame(
    rng: np.random.Generator,
    table: str,
    times: tuple[np.ndarray, np.ndarray],
    terms: _OrderTerms,
    sizes: dict[str, int],
    goods: dict[str, object],
    design_id: np.ndarray | None = None,
) -> pl.DataFrame:
    """The columns sales and purchase orders share, around what each kind orders (`goods`), in
    totesys's column order; only sales orders have a design."""
    created, updated = times
    n = len(created)
    return pl.DataFrame(
        {
            f"{table}_id": np.arange(1, n + 1),
            "created_at": _ts(created),
            "last_updated": _ts(updated),
            **({} if design_id is None else {"design_id": design_id}),
            "staff_id": rng.integers(1, sizes["staff"] + 1, n),
            "counterparty_id": terms.counterparty_id,
            **goods,
            "currency_id": terms.currency_id,
            "agreed_delivery_date": _days(created // DAY_MS + rng.integers(0, 8, n)),
            "agreed_payment_date": _days(terms.payment_day),
            "agreed_delivery_location_id": rng.integers(1, sizes["address"] + 1, n),
        }
    )


def _sales_orders(
    rng: np.random.Generator, sizes: dict[str, int], design_created: np.ndarray
) -> tuple[pl.DataFrame, _OrderTerms]:
    times = _order_times(rng, sizes["sales_order"])
    created = times[0]
    # Only designs that already exist when the order is placed.
    available = np.searchsorted(design_created, created, side="right")
    design_id = (rng.random(len(created)) * available).astype(np.int64) + 1
    units = rng.integers(1_000, 100_001, len(created))
    price_c = rng.integers(200, 401, len(created))
    terms = _agree_terms(rng, created, units * price_c, sizes)
    goods = {"units_sold": units, "unit_price": price_c / 100}
    return _order_frame(rng, "sales_order", times, terms, sizes, goods, design_id), terms


def _item_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seven random characters from A-Z and 0-9 per purchase order."""
    alphabet = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", dtype="S1")
    return np.ascontiguousarray(alphabet[rng.integers(0, 36, (n, 7))]).view("S7").ravel().astype("U7")


def _purchase_orders(rng: np.random.Generator, sizes: dict[str, int]) -> tuple[pl.DataFrame, _OrderTerms]:
    times = _order_times(rng, sizes["purchase_order"])
    created = times[0]
    codes = _item_codes(rng, len(created))
    qty = rng.integers(1, 1_000, len(created))
    price_c = rng.integers(300, 100_001, len(created))
    terms = _agree_terms(rng, created, qty * price_c, sizes)
    goods = {"item_code": codes, "item_quantity": qty, "item_unit_price": price_c / 100}
    return _order_frame(rng, "purchase_order", times, terms, sizes, goods), terms


def _in_creation_order(sales: _OrderTerms, purchases: _OrderTerms) -> tuple[_OrderTerms, np.ndarray, np.ndarray]:
    """Both kinds of order interleaved by creation time (a stable sort: sales first on a tie), with
    whether each is a sale and its id within its own table."""
    n_sales = len(sales.created)
    order = np.argsort(np.concatenate([sales.created, purchases.created]), kind="stable")

    def merged(sales_values: np.ndarray, purchase_values: np.ndarray) -> np.ndarray:
        return np.concatenate([sales_values, purchase_values])[order]

    terms = _OrderTerms(
        created=merged(sales.created, purchases.created),
        amount_c=merged(sales.amount_c, purchases.amount_c),
        counterparty_id=merged(sales.counterparty_id, purchases.counterparty_id),
        currency_id=merged(sales.currency_id, purchases.currency_id),
        payment_day=merged(sales.payment_day, purchases.payment_day),
    )
    is_sale = order < n_sales
    return terms, is_sale, np.where(is_sale, order + 1, order - n_sales + 1)


def _transactions(created: np.ndarray, is_sale: np.ndarray, order_id: np.ndarray) -> pl.DataFrame:
    """One transaction per order, numbered in order of creation; it points at a sale or a purchase."""
    n = len(created)
    return pl.DataFrame(
        {
            "transaction_id": np.arange(1, n + 1),
            "transaction_type": np.where(is_sale, "SALE", "PURCHASE"),
            "sales_order_id": pl.Series(order_id).set(pl.Series(~is_sale), None),
            "purchase_order_id": pl.Series(order_id).set(pl.Series(is_sale), None),
            "created_at": _ts(created),
            "last_updated": _ts(created),
        }
    )


def _payment_times(rng: np.random.Generator, terms: _OrderTerms) -> tuple[np.ndarray, np.ndarray]:
    """Whether each payment is paid and when: on its agreed day, after the order was created, and
    only if that day ended before the snapshot did (later ones are still due)."""
    lo = np.maximum(terms.payment_day * DAY_MS, terms.created + 1)
    hi = terms.payment_day * DAY_MS + DAY_MS - 1
    paid_at = lo + (rng.random(len(lo)) * (hi - lo + 1)).astype(np.int64)
    paid = (rng.random(len(lo)) < PAID_SHARE) & (lo <= hi) & (hi < ORDERS_END_MS)
    return paid, paid_at


def _payments(rng: np.random.Generator, terms: _OrderTerms, is_sale: np.ndarray) -> pl.DataFrame:
    """One payment per transaction (same ids); paying it is the only later change to the row."""
    n = len(terms.created)
    paid, paid_at = _payment_times(rng, terms)
    return pl.DataFrame(
        {
            "payment_id": np.arange(1, n + 1),
            "created_at": _ts(terms.created),
            "last_updated": _ts(np.where(paid, paid_at, terms.created)),
            "transaction_id": np.arange(1, n + 1),
            "counterparty_id": terms.counterparty_id,
            "payment_amount": terms.amount_c / 100,
            "currency_id": terms.currency_id,
            "payment_type_id": np.where(is_sale, 1, 3),  # SALES_RECEIPT or PURCHASE_PAYMENT
            "paid": paid,
            "payment_date": _days(terms.payment_day),
            "company_ac_number": _digits(rng, n, 8),
            "counterparty_ac_number": _digits(rng, n, 8),
        }
    )


def _orders(rng: np.random.Generator, sizes: dict[str, int], design_created: np.ndarray) -> dict[str, pl.DataFrame]:
    sales, sales_terms = _sales_orders(rng, sizes, design_created)
    purchases, purchase_terms = _purchase_orders(rng, sizes)
    terms, is_sale, order_id = _in_creation_order(sales_terms, purchase_terms)
    return {
        "sales_order": sales,
        "purchase_order": purchases,
        "transaction": _transactions(terms.created, is_sale, order_id),
        "payment": _payments(rng, terms, is_sale),
    }


def generate_totesys(scale: float = 1.0, seed: int = 42) -> dict[str, pl.DataFrame]:
    """All 11 tables as DataFrames (deterministic for a given scale and seed)."""
    sizes = table_sizes(scale)
    rng = np.random.default_rng(seed)
    frames = _dimensions(rng, sizes)
    frames["design"], design_created = _designs(rng, sizes["design"])
    frames.update(_orders(rng, sizes, design_created))
    return {t: frames[t] for t in TOTESYS_TABLES}


# ---------------------------------------------------------------------------------------------- loading

# The order side is large: with enough privilege it is loaded by two connections in parallel with
# foreign-key triggers off (session_replication_role = replica). The data is referentially sound by
# construction and the tests check every foreign key. Each list is one worker's share, parents first.
ORDER_SIDE: tuple[tuple[str, ...], ...] = (("sales_order", "transaction"), ("purchase_order", "payment"))
PARALLEL_MIN_ROWS = 50_000


def _copy(cur: psycopg.Cursor, table: str, df: pl.DataFrame, progress: Progress | None, freeze: bool = True) -> None:
    total = df.height
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv{})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, df.columns)),
        sql.SQL(", FREEZE" if freeze else ""),
    )
    if progress:
        progress(table, 0, total)
    with cur.copy(stmt) as copy:
        for start in range(0, total, CHUNK_ROWS):
            chunk = df.slice(start, CHUNK_ROWS)
            copy.write(
                chunk.write_csv(
                    include_header=False,
                    datetime_format="%Y-%m-%d %H:%M:%S%.3f",
                    date_format="%Y-%m-%d",
                    float_precision=2,
                )
            )
            if progress and start + chunk.height < total:
                progress(table, start + chunk.height, total)
    if progress:
        progress(table, total, total)  # after the COPY has finished server-side


def _can_skip_fk_triggers(conn: psycopg.Connection) -> bool:
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
        return True
    except psycopg.Error:
        return False


def _load_worker(dsn: str, tables: tuple[str, ...], frames: dict[str, pl.DataFrame], progress: Progress | None) -> None:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        for table in tables:
            _copy(cur, table, frames[table], progress, freeze=False)
        conn.commit()


def seed_totesys(dsn: str, scale: float = 1.0, seed: int = 42, progress: Progress | None = None) -> dict[str, int]:
    """(Re)create and fill totesys at `scale`; returns the row count per table.

    progress(table, rows_done, rows_total) is called as tables load (possibly from two threads, never
    concurrently).
    """
    frames = generate_totesys(scale, seed)
    if progress is not None:
        lock = threading.Lock()
        user_progress = progress

        def progress(table: str, done: int, total: int) -> None:
            with lock:
                user_progress(table, done, total)

    big = [t for share in ORDER_SIDE for t in share]
    with psycopg.connect(dsn) as conn:
        apply_totesys_ddl(conn)
        conn.commit()
        parallel = frames["payment"].height >= PARALLEL_MIN_ROWS and _can_skip_fk_triggers(conn)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                    sql.SQL(", ").join(map(sql.Identifier, TOTESYS_TABLES))
                )
            )
            for table, df in frames.items():
                if not (parallel and table in big):
                    _copy(cur, table, df, progress)
        if parallel:
            with ThreadPoolExecutor(len(ORDER_SIDE)) as pool:
                for fut in [pool.submit(_load_worker, dsn, share, frames, progress) for share in ORDER_SIDE]:
                    fut.result()
        with conn.transaction():
            for table in TOTESYS_TABLES:
                pk = PRIMARY_KEYS[table]
                stmt = sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(max({pk}), 1),"
                    " max({pk}) IS NOT NULL) FROM {t}"
                ).format(pk=sql.Identifier(pk), t=sql.Identifier(table))
                conn.execute(stmt, (table, pk))
        conn.autocommit = True
        conn.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, TOTESYS_TABLES))))
    return {t: df.height for t, df in frames.items()}
