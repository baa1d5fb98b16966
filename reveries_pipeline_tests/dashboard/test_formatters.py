"""How the dashboard writes numbers on the page (queries.format_money, format_count, iso): literal strings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from reveries_pipeline.dashboard.queries import format_count, format_money, iso


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("2794.75"), "2,794.75"),
        (Decimal("1234567.891"), "1,234,567.89"),  # a comma every three digits, two decimals
        (Decimal("999.999"), "1,000.00"),  # rounding carries into a new thousands group
        (Decimal("1000"), "1,000.00"),
        (Decimal("72.75"), "72.75"),
        (Decimal("0.015"), "0.02"),  # Decimal rounds half to even: 0.015 -> 0.02 ...
        (Decimal("0.025"), "0.02"),  # ... and 0.025 -> 0.02
        (Decimal("-1234.5"), "-1,234.50"),  # a negative keeps its separators
        (Decimal("0"), "0.00"),
        (None, "0.00"),  # no figure (an empty sum) reads as zero
        (1234, "1,234.00"),
        (2.5, "2.50"),
    ],
)
def test_format_money(value, shown):
    assert format_money(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2312, "2,312"),
        (1234567, "1,234,567"),
        (999, "999"),
        (-1109, "-1,109"),
        (0, "0"),
        (None, "0"),
    ],
)
def test_format_count(value, shown):
    assert format_count(value) == shown


def test_iso():
    assert iso(date(2024, 4, 25)) == "2024-04-25"
    assert iso(None) is None
