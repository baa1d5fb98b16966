"""generate_totesys without a database: row counts per scale, determinism, and what a seed means."""

from __future__ import annotations

import hashlib

import pytest

from reveries_pipeline.totesys.generator import generate_totesys, table_sizes
from reveries_pipeline.totesys.schema import TOTESYS_TABLES

# What seed 7 at scale 0.05 (the test session's template source) generates, as the CSV that seed.py
# COPYs. A seed must keep meaning the same rows: benchmarks and tests compare figures across runs. If a
# change to the generator or the vocabulary is meant to change the data, update these digests with it.
SEED_7_SCALE_005 = {
    "address": "21639b1573820d6fa20d7ed47baf697e",
    "counterparty": "1cd14f51fb315f9523d45df8b627cf0a",
    "currency": "8a7d2cfc96bbefc4c3e1f588039c7348",
    "department": "913d1badf699ed0fd77fcde3894ac712",
    "design": "9f3fa44d5569c4f090d48e495267aae7",
    "payment_type": "0b746870eaeed8e4fb871580170b2d29",
    "staff": "5240c3ed5605c439f2dcccc3dfc00b3d",
    "sales_order": "0b43c6bf3c03cc2bda7ab6ec95836a14",
    "purchase_order": "eff9208c1873b9be5b4203beb538b825",
    "transaction": "a8bfbb809a902c0a48cfd2bc4cd6e667",
    "payment": "4e9a0e60e68c94634d329a480333ff0f",
}


def digests(scale: float, seed: int) -> dict[str, str]:
    frames = generate_totesys(scale, seed)
    return {
        table: hashlib.md5(
            df.write_csv(datetime_format="%Y-%m-%d %H:%M:%S%.3f", date_format="%Y-%m-%d", float_precision=2).encode()
        ).hexdigest()
        for table, df in frames.items()
    }


def test_scaling():
    small, big = table_sizes(0.1), table_sizes(100)
    assert big["sales_order"] == 1_120_000 and small["sales_order"] == 1_120
    assert big["design"] == 100 * table_sizes(1)["design"]
    assert big["address"] == 300 and big["staff"] == 200  # ~sqrt(F)
    assert big["currency"] == small["currency"] == 3
    with pytest.raises(ValueError):
        table_sizes(0)


def test_some_staff_names_have_apostrophes():
    # At scale 4 (~40 staff) the name pool's O'Keefe-style surnames show up.
    frames = generate_totesys(4.0, seed=42)
    assert frames["staff"].filter(frames["staff"]["last_name"].str.contains("'")).height > 0


def test_a_seed_generates_the_same_bytes_every_time_and_in_table_order():
    frames = generate_totesys(0.05, seed=7)
    assert list(frames) == list(TOTESYS_TABLES)
    assert {t: df.height for t, df in frames.items()} == table_sizes(0.05)
    assert digests(0.05, 7) == SEED_7_SCALE_005


def test_another_seed_generates_other_rows_but_the_same_fixed_tables():
    other = digests(0.05, 8)
    fixed = ("currency", "department", "payment_type")
    assert {t: other[t] for t in fixed} == {t: SEED_7_SCALE_005[t] for t in fixed}
    assert all(other[t] != SEED_7_SCALE_005[t] for t in TOTESYS_TABLES if t not in fixed)
