"""Raw batches of one table written under different source schemas, processed in one pass."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.object_names import put_new_batch
from reveries_pipeline.lake.parquet import read_parquet_object
from reveries_pipeline.processing.schemas import TARGET_SCHEMAS
from reveries_pipeline_tests.pipeline_harness import check_results


def keys(store, table) -> list[str]:
    return [o.key for o in new_batches(store, table, None)]


def all_rows(store, table) -> pl.DataFrame:
    return pl.concat([read_parquet_object(store, k) for k in keys(store, table)])


def test_batches_before_and_after_a_source_change_process_together(pipeline):
    pipeline.ingest()
    # the source changes: a new column, and a key widened to bigint
    pipeline.source("ALTER TABLE sales_order ADD COLUMN discount_pct numeric(5, 2)")
    pipeline.source("ALTER TABLE sales_order ALTER COLUMN sales_order_id TYPE bigint")
    pipeline.source(
        "UPDATE sales_order SET discount_pct = 7.5, units_sold = 4321, last_updated = now() WHERE sales_order_id <= 3"
    )
    pipeline.ingest()
    first, second = keys(pipeline.ingestion, "sales_order")
    old, new = read_parquet_object(pipeline.ingestion, first), read_parquet_object(pipeline.ingestion, second)
    assert "discount_pct" in new.columns and new.schema["sales_order_id"] == pl.Int64
    assert old.schema["sales_order_id"] == pl.Int32

    result = pipeline.process()  # one pass reads both batches
    assert all(c.passed for c in check_results(result).values())
    facts = all_rows(pipeline.processed, "fact_sales_order")
    assert facts.schema == TARGET_SCHEMAS["fact_sales_order"]
    versions = pipeline.source("SELECT count(*) FROM sales_order")[0][0] + 3
    assert facts.height == versions
    updated = facts.filter(pl.col("units_sold") == 4321).sort("sales_order_id")
    assert updated["sales_order_id"].to_list() == [1, 2, 3]
    expected = pipeline.source(
        "SELECT sales_order_id, unit_price, last_updated::time FROM sales_order WHERE sales_order_id <= 3 ORDER BY 1"
    )
    assert updated.select("sales_order_id", "unit_price", "last_updated_time").rows() == expected


def _write_raw(store, table: str, frame: pl.DataFrame) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.parquet"
        frame.write_parquet(path)
        return put_new_batch(store, table, path, keys(store, table)[-1])


def test_text_decimals_are_read_exactly_and_dropped_or_new_columns_do_not_matter(pipeline):
    pipeline.ingest()
    pipeline.process()
    [raw_key] = keys(pipeline.ingestion, "payment")
    rows = read_parquet_object(pipeline.ingestion, raw_key).sort("payment_id").head(2)
    # a batch as the new ingestion writes it: an unconstrained numeric as exact text, a column the
    # star schema doesn't read dropped, a new column, timestamps with microseconds
    drifted = rows.with_columns(
        pl.Series("payment_amount", ["123.40", "12.345"]),
        pl.col("last_updated").cast(pl.Datetime("us")) + dt.timedelta(seconds=1),
        pl.lit("new").alias("remittance_note"),
    ).drop("company_ac_number")
    _write_raw(pipeline.ingestion, "payment", drifted)

    result = pipeline.process()
    [new_key] = keys(pipeline.processed, "fact_payment")[1:]
    facts = read_parquet_object(pipeline.processed, new_key)
    good, bad = rows["payment_id"].to_list()
    assert facts.schema == TARGET_SCHEMAS["fact_payment"]
    assert facts.select("payment_id", "payment_amount").rows() == [(good, Decimal("123.40"))]
    [rejects_key] = keys(pipeline.processed, "_rejects")
    rejects = read_parquet_object(pipeline.processed, rejects_key)
    assert rejects["primary_key"].to_list() == [bad]
    assert rejects["reason"].to_list() == ["payment_amount: cannot read '12.345' as decimal(10,2) without loss"]
    assert not check_results(result)[("processed/fact_payment", "no_rejected_rows")].passed


def test_a_source_column_the_star_schema_does_not_read_is_never_decoded(pipeline):
    """Processing reads only the raw columns it models (pending.conformed_columns), so a wide column
    it doesn't model costs no memory; here one polars can't even decode (a 60-digit decimal) passes."""
    pipeline.ingest()
    pipeline.process()
    [raw_key] = keys(pipeline.ingestion, "payment")
    rows = read_parquet_object(pipeline.ingestion, raw_key).sort("payment_id").head(2)
    newer = rows.with_columns(pl.col("last_updated") + dt.timedelta(seconds=1)).to_arrow()
    wide = pa.array([Decimal("1" * 58 + ".25")] * 2, pa.decimal256(60, 2))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.parquet"
        pq.write_table(newer.append_column("ledger_total", wide), path)
        put_new_batch(pipeline.ingestion, "payment", path, raw_key)

    result = pipeline.process()
    assert result.success
    [new_key] = keys(pipeline.processed, "fact_payment")[1:]
    facts = read_parquet_object(pipeline.processed, new_key)
    assert facts["payment_id"].to_list() == rows["payment_id"].to_list()
    assert facts.schema == TARGET_SCHEMAS["fact_payment"]
