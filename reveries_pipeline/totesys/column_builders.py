"""The snapshot's fixed calendar and the column builders every generated totesys table uses.

All timestamps derive from these epochs, never from the clock, so a seed means the same rows on any day.
"""

from __future__ import annotations

import numpy as np
import polars as pl

DAY_MS = 86_400_000


def epoch_ms(iso: str) -> int:
    return int(np.datetime64(iso, "ms").astype(np.int64))


# The real data's first rows were created on 2022-11-03; the snapshot ends mid November 2024.
DIMENSIONS_CREATED_MS = epoch_ms("2022-11-03T14:20:51.563")
ORDERS_START_MS = epoch_ms("2022-11-03T14:20:52.186")
ORDERS_END_MS = epoch_ms("2024-11-14T10:19:09.990")


def timestamps(ms: np.ndarray) -> pl.Series:
    return pl.Series(ms.astype(np.int64)).cast(pl.Datetime("ms"))


def dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def pick(rng: np.random.Generator, values: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]


def strings(values) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String)


def digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return rng.integers(10 ** (width - 1), 10**width, n)
