"""The order side of the synthetic totesys: sales and purchase orders, one transaction per order and one
payment per transaction, all derived from the terms each order agrees.

Like dimension_rows.py, every generator here draws from the one shared `rng` it is given, in an order
that is part of what a seed means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from reveries_pipeline.totesys.column_builders import (
    DAY_MS,
    ORDERS_END_MS,
    ORDERS_START_MS,
    dates,
    digits,
    timestamps,
)
from reveries_pipeline.totesys.vocabulary import CURRENCIES

PAID_SHARE = 0.70
EDITED_ORDER_SHARE = 0.10


def _order_times(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """created_at (sorted, ms) and last_updated (a tenth edited later) for n orders."""
    created = np.sort(ORDERS_START_MS + rng.integers(0, ORDERS_END_MS - ORDERS_START_MS, n))
    edited = rng.random(n) < EDITED_ORDER_SHARE
    later = created + rng.integers(60_000, 3 * DAY_MS, n)
    updated = np.where(edited, np.maximum(np.minimum(later, ORDERS_END_MS), created + 1), created)
    return created, updated


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
            "created_at": timestamps(created),
            "last_updated": timestamps(updated),
            **({} if design_id is None else {"design_id": design_id}),
            "staff_id": rng.integers(1, sizes["staff"] + 1, n),
            "counterparty_id": terms.counterparty_id,
            **goods,
            "currency_id": terms.currency_id,
            "agreed_delivery_date": dates(created // DAY_MS + rng.integers(0, 8, n)),
            "agreed_payment_date": dates(terms.payment_day),
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
            "created_at": timestamps(created),
            "last_updated": timestamps(created),
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
            "created_at": timestamps(terms.created),
            "last_updated": timestamps(np.where(paid, paid_at, terms.created)),
            "transaction_id": np.arange(1, n + 1),
            "counterparty_id": terms.counterparty_id,
            "payment_amount": terms.amount_c / 100,
            "currency_id": terms.currency_id,
            "payment_type_id": np.where(is_sale, 1, 3),  # SALES_RECEIPT or PURCHASE_PAYMENT
            "paid": paid,
            "payment_date": dates(terms.payment_day),
            "company_ac_number": digits(rng, n, 8),
            "counterparty_ac_number": digits(rng, n, 8),
        }
    )


def generate_orders(
    rng: np.random.Generator, sizes: dict[str, int], design_created: np.ndarray
) -> dict[str, pl.DataFrame]:
    """sales_order, purchase_order, transaction and payment at the row counts in `sizes`."""
    sales, sales_terms = _sales_orders(rng, sizes, design_created)
    purchases, purchase_terms = _purchase_orders(rng, sizes)
    terms, is_sale, order_id = _in_creation_order(sales_terms, purchase_terms)
    return {
        "sales_order": sales,
        "purchase_order": purchases,
        "transaction": _transactions(terms.created, is_sale, order_id),
        "payment": _payments(rng, terms, is_sale),
    }
