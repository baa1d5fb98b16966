"""The dimension side of the synthetic totesys: address, counterparty, the fixed reference tables
(currency, department, payment_type), staff and the design catalogue.

Every generator here draws from the one shared `rng` it is given: the order of the draws (tables, then
columns within a table) is part of what a seed means, so it must not change (generator.py calls them).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from reveries_pipeline.totesys.column_builders import (
    DAY_MS,
    DIMENSIONS_CREATED_MS,
    ORDERS_END_MS,
    ORDERS_START_MS,
    dates,
    digits,
    pick,
    strings,
    timestamps,
)
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


def _created_at_start(n: int) -> dict[str, pl.Series]:
    """created_at and last_updated of dimension rows: all there, unchanged, since the first day."""
    return {
        "created_at": timestamps(np.full(n, DIMENSIONS_CREATED_MS)),
        "last_updated": timestamps(np.full(n, DIMENSIONS_CREATED_MS)),
    }


def _sometimes(rng: np.random.Generator, values: tuple[str, ...], n: int, share: float) -> pl.Series:
    """A value from `values` in about `share` of the rows, null in the others (optional columns)."""
    return strings(np.where(rng.random(n) < share, pick(rng, values, n), None))


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
            "city": strings(pick(rng, CITIES, n)),
            "postal_code": _postal_codes(rng, n),
            "country": strings(pick(rng, COUNTRIES, n)),
            "phone": [f"{a} {b}" for a, b in zip(digits(rng, n, 4), digits(rng, n, 6), strict=True)],
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


def generate_dimensions(rng: np.random.Generator, sizes: dict[str, int]) -> dict[str, pl.DataFrame]:
    """Every dimension table but design, at the row counts in `sizes`."""
    return {  # generated in this order (see the module docstring)
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
    """One design's file name (the simulator's; generate_designs builds the same shape column-wise)."""
    return f"{word.lower()}-{day}-{letters}.json"


def generate_designs(rng: np.random.Generator, n: int) -> tuple[pl.DataFrame, np.ndarray]:
    """The design table and each design's creation time in ms (sales orders pick only existing ones)."""
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
    days = dates(created // DAY_MS).dt.strftime("%Y%m%d")
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype="S1")[rng.integers(0, 26, (n, 4))]
    letters_s = pl.Series(np.ascontiguousarray(letters).view("S4").ravel().astype("U4"))
    file_name = pl.select(
        pl.concat_str([word_s.str.to_lowercase(), days, letters_s], separator="-") + ".json"
    ).to_series()
    df = pl.DataFrame(
        {
            "design_id": np.arange(1, n + 1),
            "created_at": timestamps(created),
            "design_name": word_s,
            "file_location": pick(rng, FILE_LOCATIONS, n).astype(str),
            "file_name": file_name,
            "last_updated": timestamps(created),
        }
    )
    return df, created
