"""One warehouse run walks each table once: the writer lock is taken once per run, and each table's
ledger is read once to list from and, if anything new was listed, once to filter it, never again."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from reveries_pipeline.warehouse.schema import LEDGER_TABLE, WAREHOUSE_TABLES


@pytest.fixture
def statements(monkeypatch) -> list[str]:
    """The text of every statement the process sends through Connection.execute."""
    sent: list[str] = []
    real = psycopg.Connection.execute

    def spy(self, query, *args, **kwargs):
        if isinstance(query, bytes):
            query = query.decode()
        sent.append(query if isinstance(query, str) else query.as_string(self))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", spy)
    return sent


@pytest.mark.parametrize("bucket_kind", ["local"], indirect=True)
def test_a_load_takes_the_writer_lock_once_and_reads_each_tables_ledger_at_most_twice(pipeline, statements):
    pipeline.ingest()
    pipeline.process()
    pipeline.load()  # first load: creates the schema
    pipeline.source("UPDATE sales_order SET units_sold = units_sold + 1, last_updated = now() WHERE sales_order_id = 1")
    pipeline.ingest()
    pipeline.process()
    statements.clear()

    result = pipeline.load()

    assert result.success
    locks = [s for s in statements if "pg_advisory_xact_lock" in s]
    assert len(locks) == 1, locks
    ledger = sql.Identifier(LEDGER_TABLE).as_string(None)
    ledger_reads = [s for s in statements if ledger in s and s.lstrip().upper().startswith("SELECT")]
    # Each table: its last key, to list after; and, if anything was listed, which listed keys are in.
    changed = [
        m.asset_key
        for m in result.get_asset_materialization_events()
        if m.materialization.metadata["batches_applied"].value
    ]
    assert changed, "the update reached no table"
    assert len(ledger_reads) == len(WAREHOUSE_TABLES) + len(changed), ledger_reads
    assert pipeline.warehouse("SELECT units_sold FROM fact_sales_order_current WHERE sales_order_id = 1") == (
        pipeline.source("SELECT units_sold FROM sales_order WHERE sales_order_id = 1")
    )
