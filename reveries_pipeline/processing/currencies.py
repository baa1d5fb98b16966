"""Currency names from ISO 4217 (pycountry), for dim_currency."""

from __future__ import annotations

from functools import cache

import polars as pl
import pycountry

# The names the warehouse has always used for the three totesys currencies.
_OVERRIDES = {"GBP": "Pound Sterling", "USD": "US Dollar", "EUR": "Euro"}


@cache
def currency_names() -> dict[str, str]:
    """Every active ISO 4217 code -> its name."""
    names = {c.alpha_3.upper(): c.name for c in pycountry.currencies}
    names.update(_OVERRIDES)
    return names


def currency_name(code: str | None) -> str | None:
    """The ISO 4217 name of ``code`` (case-insensitive, surrounding blanks ignored), or None."""
    if code is None:
        return None
    return currency_names().get(code.strip().upper())


def currency_lookup_frame() -> pl.DataFrame:
    """The lookup as a frame (currency_code, currency_name), for joins."""
    names = currency_names()
    return pl.DataFrame(
        {"currency_code": list(names), "currency_name": list(names.values())},
        schema={"currency_code": pl.String, "currency_name": pl.String},
    )
