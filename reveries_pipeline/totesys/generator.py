"""Generate totesys as DataFrames: synthetic data shaped like the real snapshot (Nov 2024).

Everything is generated column-wise with numpy from one `np.random.default_rng(seed)`, so the same seed
and scale give byte-identical tables (seed.py loads them). The tables are drawn in a fixed order,
dimensions, then designs, then orders (dimension_rows.py, order_rows.py): that order is part of what a
seed means.

Scale F multiplies the order side (design, sales_order, purchase_order, transaction, payment) by F over
the same date range; address/counterparty/staff grow with sqrt(F); currency/department/payment_type are
fixed.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from reveries_pipeline.totesys.dimension_rows import generate_designs, generate_dimensions
from reveries_pipeline.totesys.order_rows import generate_orders
from reveries_pipeline.totesys.schema import TOTESYS_TABLES
from reveries_pipeline.totesys.vocabulary import CURRENCIES, DEPARTMENTS, PAYMENT_TYPES

# Row counts at scale 1.
SALES_ORDERS = 11_200
PURCHASE_ORDERS = 4_600
DESIGNS = 470
ADDRESSES = 30
COUNTERPARTIES = 20
STAFF = 20


def _scaled(base: int, factor: float, minimum: int = 1) -> int:
    return max(minimum, round(base * factor))


def table_sizes(scale: float) -> dict[str, int]:
    """The row counts generate_totesys produces at `scale` (payment/transaction = both order tables)."""
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


def generate_totesys(scale: float = 1.0, seed: int = 42) -> dict[str, pl.DataFrame]:
    """All 11 tables as DataFrames (deterministic for a given scale and seed)."""
    sizes = table_sizes(scale)
    rng = np.random.default_rng(seed)
    frames = generate_dimensions(rng, sizes)
    frames["design"], design_created = generate_designs(rng, sizes["design"])
    frames.update(generate_orders(rng, sizes, design_created))
    return {t: frames[t] for t in TOTESYS_TABLES}
