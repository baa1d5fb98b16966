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

import numpy as np
import polars as pl
import psycopg
from psycopg import sql

from reveries_pipeline.totesys.schema import PRIMARY_KEYS, TOTESYS_TABLES, apply_totesys_ddl

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

CURRENCIES = ("GBP", "USD", "EUR")
PAYMENT_TYPES = ("SALES_RECEIPT", "SALES_REFUND", "PURCHASE_PAYMENT", "PURCHASE_REFUND")
DEPARTMENTS = (
    ("Sales", "Manchester", "Richard Roma"),
    ("Purchasing", "Manchester", "Naomi Lapaglia"),
    ("Production", "Leeds", "Chester Ming"),
    ("Dispatch", "Leeds", "Mark Hanna"),
    ("Finance", "Manchester", "Jordan Belfort"),
    ("Facilities", "Manchester", "Shelley Levene"),
    ("Communications", "Leeds", "Ann Blake"),
    ("HR", "Leeds", "James Link"),
)
DESIGN_WORDS = (
    "Steel",
    "Soft",
    "Granite",
    "Concrete",
    "Frozen",
    "Bronze",
    "Plastic",
    "Cotton",
    "Metal",
    "Fresh",
    "Wooden",
    "Rubber",
)
FILE_LOCATIONS = (
    "/usr",
    "/private",
    "/System",
    "/opt",
    "/home/user/dir",
    "/usr/local/src",
    "/var/lib",
    "/etc/ppp",
    "/Users",
    "/Library",
    "/usr/ports",
    "/opt/include",
    "/private/tmp",
    "/srv",
    "/usr/share",
    "/root",
    "/lost+found",
    "/Network",
    "/var/spool",
    "/etc/mail",
)
FIRST_NAMES = (
    "Jeremie",
    "Deron",
    "Jeanette",
    "Ana",
    "Magdalena",
    "Korey",
    "Raphael",
    "Oswaldo",
    "Brody",
    "Jazmyn",
    "Meda",
    "Imani",
    "Stan",
    "Rick",
    "Flavio",
    "Ellie",
    "Laverne",
    "Kasey",
    "Mireille",
    "Orin",
    "Verdie",
    "Dorthy",
    "Nellie",
    "Benton",
    "Ivory",
    "Gust",
    "Ebba",
    "Shaun",
    "Melody",
    "Alek",
    "Zelda",
    "Marlon",
    "Colby",
    "Yolanda",
    "Hester",
    "Lyric",
    "Ramon",
    "Tressa",
    "Dagny",
    "Felix",
)
LAST_NAMES = (
    "Franey",
    "Breitenberg",
    "Erdman",
    "Glover",
    "Zieme",
    "Ondricka",
    "Reilly",
    "Bogan",
    "Crist",
    "Hagenes",
    "Homenick",
    "Walsh",
    "Lind",
    "Kovacek",
    "Kutch",
    "Torphy",
    "Jacobs",
    "Hilll",
    "Fahey",
    "Moen",
    "O'Keefe",
    "D'Amore",
    "O'Hara",
    "O'Conner",
    "O'Reilly",
    "Leannon",
    "Predovic",
    "Morar",
    "Bechtelar",
    "Kulas",
    "Schimmel",
    "Stiedemann",
    "Gerhold",
    "Yost",
    "Wuckert",
    "Pouros",
    "Hettinger",
    "Cassin",
    "Frami",
    "Grady",
)
STREET_NAMES = (
    "Herzog",
    "Alexie",
    "Sincere",
    "Kertzmann",
    "Skiles",
    "Hermiston",
    "Carroll",
    "Lemke",
    "Bartoletti",
    "Balistreri",
    "Kuhic",
    "Runolfsdottir",
    "Keebler",
    "Ritchie",
    "Weimann",
    "Macejkovic",
    "Dach",
    "Rolfson",
)
STREET_SUFFIXES = (
    "Via",
    "Street",
    "Lane",
    "Road",
    "Avenue",
    "Mews",
    "Crescent",
    "Groves",
    "Meadows",
    "Light",
    "Ports",
    "Knoll",
    "Harbor",
    "Court",
    "Ridge",
)
LINE_2 = (
    "Avon",
    "Ashley Hill",
    "Flat 2",
    "Suite 406",
    "Apt. 191",
    "Unit 7",
    "The Old Mill",
    "Block B",
    "Floor 3",
    "Riverside House",
)
DISTRICTS = (
    "Avon",
    "Bedfordshire",
    "Buckinghamshire",
    "Cambridgeshire",
    "Cheshire",
    "Cumbria",
    "Derbyshire",
    "Devon",
    "Dorset",
    "Essex",
    "Kent",
    "Lancashire",
    "Norfolk",
    "Surrey",
    "West Yorkshire",
    "Greater Manchester",
)
CITIES = (
    "New Patienceburgh",
    "Aliso Viejo",
    "Lake Charles",
    "Olsonside",
    "Fort Shadburgh",
    "Kendraburgh",
    "North Dausborough",
    "Suffolk",
    "Pricetown",
    "Bradford",
    "Sheffield",
    "York",
    "Leeds",
    "Manchester",
    "Liverpool",
    "Chester",
    "Preston",
    "Hull",
    "Oldham",
    "Wigan",
    "Lancaster",
)
COUNTRIES = (
    "Turkey",
    "Austria",
    "Democratic People's Republic of Korea",
    "United Kingdom",
    "Germany",
    "France",
    "Spain",
    "Ireland",
    "Netherlands",
    "Belgium",
    "Portugal",
    "Italy",
    "Poland",
    "Sweden",
    "Norway",
    "Canada",
    "United States of America",
    "Japan",
    "Brazil",
    "Australia",
)
COMPANY_SUFFIXES = ("LLC", "Inc", "Group", "and Sons", "Ltd", "PLC")


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


# ---------------------------------------------------------------------------------------------- tables


def _dimensions(rng: np.random.Generator, sizes: dict[str, int]) -> dict[str, pl.DataFrame]:
    t0 = DIMENSIONS_CREATED_MS
    out: dict[str, pl.DataFrame] = {}

    n = sizes["address"]
    out["address"] = pl.DataFrame(
        {
            "address_id": np.arange(1, n + 1),
            "address_line_1": [
                f"{num} {STREET_NAMES[s]} {STREET_SUFFIXES[x]}"
                for num, s, x in zip(
                    rng.integers(1, 10_000, n),
                    rng.integers(0, len(STREET_NAMES), n),
                    rng.integers(0, len(STREET_SUFFIXES), n),
                    strict=True,
                )
            ],
            "address_line_2": _str(np.where(rng.random(n) < 1 / 3, _pick(rng, LINE_2, n), None)),
            "district": _str(np.where(rng.random(n) < 0.5, _pick(rng, DISTRICTS, n), None)),
            "city": _str(_pick(rng, CITIES, n)),
            "postal_code": [
                f"{p:05d}" if k else f"{p % 100:02d}{p // 100 % 1000:03d}-{p % 10_000:04d}"
                for p, k in zip(rng.integers(10_000, 100_000, n), rng.random(n) < 0.8, strict=True)
            ],
            "country": _str(_pick(rng, COUNTRIES, n)),
            "phone": [f"{a} {b}" for a, b in zip(_digits(rng, n, 4), _digits(rng, n, 6), strict=True)],
            "created_at": _ts(np.full(n, t0)),
            "last_updated": _ts(np.full(n, t0)),
        }
    )

    n = sizes["counterparty"]
    # Several counterparties share one legal address.
    legal = rng.integers(1, max(2, sizes["address"] * 2 // 3) + 1, n)
    if n > 1:
        legal[1] = legal[0]
    names: list[str] = []
    while len(names) < n:
        name = _company(rng)
        if name not in names:
            names.append(name)
    out["counterparty"] = pl.DataFrame(
        {
            "counterparty_id": np.arange(1, n + 1),
            "counterparty_legal_name": names,
            "legal_address_id": legal,
            "commercial_contact": [_person(rng) for _ in range(n)],
            "delivery_contact": [_person(rng) for _ in range(n)],
            "created_at": _ts(np.full(n, t0)),
            "last_updated": _ts(np.full(n, t0)),
        }
    )

    out["currency"] = pl.DataFrame(
        {
            "currency_id": np.arange(1, len(CURRENCIES) + 1),
            "currency_code": list(CURRENCIES),
            "created_at": _ts(np.full(len(CURRENCIES), t0)),
            "last_updated": _ts(np.full(len(CURRENCIES), t0)),
        }
    )
    out["department"] = pl.DataFrame(
        {
            "department_id": np.arange(1, len(DEPARTMENTS) + 1),
            "department_name": [d[0] for d in DEPARTMENTS],
            "location": [d[1] for d in DEPARTMENTS],
            "manager": [d[2] for d in DEPARTMENTS],
            "created_at": _ts(np.full(len(DEPARTMENTS), t0)),
            "last_updated": _ts(np.full(len(DEPARTMENTS), t0)),
        }
    )
    out["payment_type"] = pl.DataFrame(
        {
            "payment_type_id": np.arange(1, len(PAYMENT_TYPES) + 1),
            "payment_type_name": list(PAYMENT_TYPES),
            "created_at": _ts(np.full(len(PAYMENT_TYPES), t0)),
            "last_updated": _ts(np.full(len(PAYMENT_TYPES), t0)),
        }
    )

    n = sizes["staff"]
    people = _unique_names(rng, n)
    out["staff"] = pl.DataFrame(
        {
            "staff_id": np.arange(1, n + 1),
            "first_name": [f for f, _ in people],
            "last_name": [last for _, last in people],
            "department_id": rng.integers(1, len(DEPARTMENTS) + 1, n),
            "email_address": [staff_email(f, last) for f, last in people],
            "created_at": _ts(np.full(n, t0)),
            "last_updated": _ts(np.full(n, t0)),
        }
    )
    return out


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


def _orders(rng: np.random.Generator, sizes: dict[str, int], design_created: np.ndarray):
    n_staff, n_cp, n_addr = sizes["staff"], sizes["counterparty"], sizes["address"]

    # --- sales orders
    n = sizes["sales_order"]
    created, updated = _order_times(rng, n)
    # Only designs that already exist when the order is placed.
    available = np.searchsorted(design_created, created, side="right")
    design_id = (rng.random(n) * available).astype(np.int64) + 1
    units = rng.integers(1_000, 100_001, n)
    price_c = rng.integers(200, 401, n)
    so_cp = rng.integers(1, n_cp + 1, n)
    so_cur = rng.integers(1, len(CURRENCIES) + 1, n)
    so_day = created // DAY_MS
    so_pay_day = so_day + rng.integers(0, 8, n)
    sales = pl.DataFrame(
        {
            "sales_order_id": np.arange(1, n + 1),
            "created_at": _ts(created),
            "last_updated": _ts(updated),
            "design_id": design_id,
            "staff_id": rng.integers(1, n_staff + 1, n),
            "counterparty_id": so_cp,
            "units_sold": units,
            "unit_price": price_c / 100,
            "currency_id": so_cur,
            "agreed_delivery_date": _days(so_day + rng.integers(0, 8, n)),
            "agreed_payment_date": _days(so_pay_day),
            "agreed_delivery_location_id": rng.integers(1, n_addr + 1, n),
        }
    )
    so_amount = units * price_c
    so_created = created

    # --- purchase orders
    n = sizes["purchase_order"]
    created, updated = _order_times(rng, n)
    alphabet = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", dtype="S1")
    codes = np.ascontiguousarray(alphabet[rng.integers(0, 36, (n, 7))]).view("S7").ravel().astype("U7")
    qty = rng.integers(1, 1_000, n)
    iprice_c = rng.integers(300, 100_001, n)
    po_cp = rng.integers(1, n_cp + 1, n)
    po_cur = rng.integers(1, len(CURRENCIES) + 1, n)
    po_day = created // DAY_MS
    po_pay_day = po_day + rng.integers(0, 8, n)
    purchases = pl.DataFrame(
        {
            "purchase_order_id": np.arange(1, n + 1),
            "created_at": _ts(created),
            "last_updated": _ts(updated),
            "staff_id": rng.integers(1, n_staff + 1, n),
            "counterparty_id": po_cp,
            "item_code": codes,
            "item_quantity": qty,
            "item_unit_price": iprice_c / 100,
            "currency_id": po_cur,
            "agreed_delivery_date": _days(po_day + rng.integers(0, 8, n)),
            "agreed_payment_date": _days(po_pay_day),
            "agreed_delivery_location_id": rng.integers(1, n_addr + 1, n),
        }
    )

    # --- transactions: one per order, numbered in order of creation across both kinds
    n_so = sizes["sales_order"]
    all_created = np.concatenate([so_created, created])
    order = np.argsort(all_created, kind="stable")
    is_sale = order < n_so
    order_id = np.where(is_sale, order + 1, order - n_so + 1)
    t_created = all_created[order]
    nt = len(order)
    transactions = pl.DataFrame(
        {
            "transaction_id": np.arange(1, nt + 1),
            "transaction_type": np.where(is_sale, "SALE", "PURCHASE"),
            "sales_order_id": pl.Series(order_id).set(pl.Series(~is_sale), None),
            "purchase_order_id": pl.Series(order_id).set(pl.Series(is_sale), None),
            "created_at": _ts(t_created),
            "last_updated": _ts(t_created),
        }
    )

    # --- payments: one per transaction
    amount_c = np.concatenate([so_amount, qty * iprice_c])[order]
    cp = np.concatenate([so_cp, po_cp])[order]
    cur = np.concatenate([so_cur, po_cur])[order]
    pay_day = np.concatenate([so_pay_day, po_pay_day])[order]
    lo = np.maximum(pay_day * DAY_MS, t_created + 1)
    hi = pay_day * DAY_MS + DAY_MS - 1
    paid_at = lo + (rng.random(nt) * (hi - lo + 1)).astype(np.int64)
    paid = (rng.random(nt) < PAID_SHARE) & (lo <= hi) & (hi < ORDERS_END_MS)
    payments = pl.DataFrame(
        {
            "payment_id": np.arange(1, nt + 1),
            "created_at": _ts(t_created),
            "last_updated": _ts(np.where(paid, paid_at, t_created)),
            "transaction_id": np.arange(1, nt + 1),
            "counterparty_id": cp,
            "payment_amount": amount_c / 100,
            "currency_id": cur,
            "payment_type_id": np.where(is_sale, 1, 3),
            "paid": paid,
            "payment_date": _days(pay_day),
            "company_ac_number": _digits(rng, nt, 8),
            "counterparty_ac_number": _digits(rng, nt, 8),
        }
    )
    return {"sales_order": sales, "purchase_order": purchases, "transaction": transactions, "payment": payments}


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
