"""Poll mode's delete reconciliation (ingestion/reconcile.py), on the embedded PostgreSQL and a local bucket.

A Poller stands in for the ingestion step: in one REPEATABLE READ transaction it captures the rows
updated since its mark (as a poll does) and, when asked, reconciles; it stores the captured rows and
the delete rows as one batch, then saves the reconciliation state, or stops short of either (a crash).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import psycopg
import pytest

from reveries_pipeline.ingestion.logical.columns import OP
from reveries_pipeline.ingestion.reconcile import (
    LAST_UPDATED,
    Reconciler,
    Vanished,
    delete_batch_schema,
    lake_rows_since,
    source_rows,
)
from reveries_pipeline.ingestion.source_reader import rows_updated_since
from reveries_pipeline.ingestion.source_schema import SourceTable, describe_source_table
from reveries_pipeline.lake.object_names import next_batch_key
from reveries_pipeline.lake.parquet import read_parquet_object, write_new_parquet
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline_tests.ingestion.raw_lake import batches
from reveries_pipeline_tests.ingestion.source_rows import T0, add_sales_order

TABLE, PK = "sales_order", "sales_order_id"
T1, T2, T3 = (T0 + timedelta(minutes=n) for n in (1, 2, 3))


@pytest.fixture
def lake(tmp_path) -> ObjectStore:
    return ObjectStore(url=str(tmp_path / "ingestion"))


def in_source(dsn: str, statement: str, params=()) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(statement, params)


def new_order(dsn: str, last_updated) -> int:
    with psycopg.connect(dsn) as conn:
        return add_sales_order(conn, last_updated)


def delete_order(dsn: str, order_id: int) -> None:
    in_source(dsn, "DELETE FROM sales_order WHERE sales_order_id = %s", (order_id,))


def touch_order(dsn: str, order_id: int, last_updated) -> None:
    in_source(dsn, "UPDATE sales_order SET last_updated = %s WHERE sales_order_id = %s", (last_updated, order_id))


class Poller:
    def __init__(self, dsn: str, lake: ObjectStore, table: str = TABLE):
        self.dsn, self.lake, self.table = dsn, lake, table
        self.mark = None  # the highest last_updated captured (stored) so far

    def last_key(self) -> str | None:
        keys = batches(self.lake, self.table)
        return keys[-1] if keys else None

    def poll(self, *, reconcile: bool = False, store: bool = True, save: bool = True) -> Vanished | None:
        with psycopg.connect(self.dsn) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            source = describe_source_table(conn, self.table)
            blocks = [pl.from_arrow(b) for b in rows_updated_since(conn, source, self.mark)]
            captured = pl.concat([pl.from_arrow(source.polled_schema.empty_table()), *blocks])
            found = Reconciler(self.lake).vanished(conn, source, self.last_key()) if reconcile else None
        key = self.last_key()
        if store and (captured.height or (found and found.rows.height)):
            key = self._store(source, captured, found)
        if found and save:
            Reconciler(self.lake).save(found, key)
        return found

    def _store(self, source: SourceTable, captured: pl.DataFrame, found: Vanished | None) -> str:
        # as the ingestion step spools it: the captured rows, then the delete rows, in one schema
        schema = delete_batch_schema(source) if found else source.polled_schema
        frame = pl.concat([captured, found.rows], how="diagonal") if found else captured
        batch = pl.from_arrow(frame.to_arrow().cast(schema))
        key, _ = write_new_parquet(self.lake, self.table, batch, next_batch_key(self.table, self.last_key()))
        if captured[LAST_UPDATED].drop_nulls().len():
            self.mark = captured[LAST_UPDATED].max()
        return key


def reported(found: Vanished) -> list[tuple]:
    return found.rows.select(PK, LAST_UPDATED).rows()


def test_a_deleted_row_is_reported_with_its_last_captured_version(source, lake):
    poller = Poller(source, lake)
    order = new_order(source, T1)
    assert reported(poller.poll(reconcile=True)) == []
    touch_order(source, order, T2)
    poller.poll()
    touch_order(source, order, T3)  # never captured: the version downstream has is T2's
    delete_order(source, order)

    found = poller.poll(reconcile=True)

    assert reported(found) == [(order, T2)]
    assert found.rows[OP].to_list() == ["delete"]
    others = found.rows.drop(PK, LAST_UPDATED, OP)
    assert others.null_count().row(0) == (1,) * others.width  # every other column null
    # the stored batch: the delete row, readable as a batch of the table
    stored = read_parquet_object(lake, poller.last_key())
    assert stored.select(PK, LAST_UPDATED, OP).rows() == [(order, T2, "delete")]


def test_a_row_inserted_captured_and_deleted_between_reconciliations_is_reported(source, lake):
    poller = Poller(source, lake)
    poller.poll(reconcile=True)
    order = new_order(source, T1)
    poller.poll()
    delete_order(source, order)

    assert reported(poller.poll(reconcile=True)) == [(order, T1)]


def test_a_row_never_captured_is_not_reported(source, lake):
    poller = Poller(source, lake)
    poller.poll(reconcile=True)
    order = new_order(source, T1)
    delete_order(source, order)  # inserted and deleted between two captures

    assert reported(poller.poll(reconcile=True)) == []


def test_a_row_deleted_already_is_not_reported_twice(source, lake):
    poller = Poller(source, lake)
    order = new_order(source, T1)
    poller.poll(reconcile=True)  # its state knows the row alive
    delete_order(source, order)
    # the next reconciliation stores its delete row, then dies before saving its state
    assert reported(poller.poll(reconcile=True, save=False)) == [(order, T1)]

    # the old state still knows the row, but the delete row is in a batch since
    assert reported(poller.poll(reconcile=True)) == []
    assert reported(poller.poll(reconcile=True)) == []  # and from the state saved since


def test_a_first_reconciliation_reads_every_batch_with_its_delete_rows(source, lake):
    poller = Poller(source, lake)
    order = new_order(source, T1)
    poller.poll()
    delete_order(source, order)
    assert reported(poller.poll(reconcile=True, save=False)) == [(order, T1)]

    again = poller.poll(reconcile=True)

    assert (again.first, again.batches_read) == (True, 2)  # still no state: every batch was read
    assert reported(again) == []


def test_a_row_last_updated_at_infinity_is_not_reported(source, lake):
    poller = Poller(source, lake)
    order = new_order(source, T1)
    poller.poll(reconcile=True)
    in_source(source, "UPDATE sales_order SET last_updated = 'infinity' WHERE sales_order_id = %s", (order,))
    poller.poll()
    with psycopg.connect(source) as conn:
        present = source_rows(conn, describe_source_table(conn, TABLE))
    assert present.filter(pl.col(PK) == order)[LAST_UPDATED].to_list() == [None]  # there, with no time

    assert reported(poller.poll(reconcile=True)) == []


def test_the_state_round_trips(source, lake):
    order = new_order(source, T1)
    in_source(source, "UPDATE sales_order SET last_updated = 'infinity' WHERE sales_order_id = %s", (order,))
    poller = Poller(source, lake)
    found = poller.poll(reconcile=True)

    with psycopg.connect(source) as conn:
        table = describe_source_table(conn, TABLE)
        payments = describe_source_table(conn, "payment")
    state = Reconciler(lake).load(table)
    assert state.covered_key == poller.last_key()
    assert state.rows.schema == found.state_after.schema == {PK: pl.Int64, LAST_UPDATED: pl.Datetime("ms")}
    assert state.rows.sort(PK).rows() == [(1, T0), (order, None)]

    # a table with no rows left still keeps the batch key its state covers
    payment_poller = Poller(source, lake, "payment")
    payment_poller.poll()
    in_source(source, "DELETE FROM payment")
    assert payment_poller.poll(reconcile=True).rows["payment_id"].to_list() == [1]
    emptied = Reconciler(lake).load(payments)
    assert (emptied.covered_key, emptied.rows.height) == (payment_poller.last_key(), 0)


def test_a_crash_before_save_finds_the_same_rows_again(source, lake):
    poller = Poller(source, lake)
    order = new_order(source, T1)
    poller.poll(reconcile=True)
    delete_order(source, order)

    crashed = poller.poll(reconcile=True, store=False, save=False)  # dies before the batch is stored
    again = poller.poll(reconcile=True)

    assert reported(crashed) == [(order, T1)]
    assert again.rows.equals(crashed.rows)
    assert reported(poller.poll(reconcile=True)) == []


def test_after_the_first_reconciliation_only_the_batches_since_are_read(source, lake):
    poller = Poller(source, lake)
    for at in (T1, T2, T3):
        new_order(source, at)
        poller.poll()
    first = poller.poll(reconcile=True)
    assert (first.first, first.batches_read) == (True, 3)
    covered = poller.last_key()

    new_order(source, T3 + timedelta(minutes=1))
    poller.poll()
    second = poller.poll(reconcile=True)

    assert (second.first, second.batches_read, second.known_before) == (False, 1, 4)
    assert second.covered_before == covered


def test_batches_written_after_the_checkpoint_are_not_read(source, lake):
    """A batch stored after the capture's snapshot (by a writer racing this one) holds rows this
    snapshot can't see; they must not be taken for deleted rows."""
    poller = Poller(source, lake)
    poller.poll()
    checkpoint_key = poller.last_key()
    later = pl.DataFrame({PK: [99], LAST_UPDATED: [T3]}, schema={PK: pl.Int32, LAST_UPDATED: pl.Datetime("ms")})
    write_new_parquet(lake, TABLE, later, next_batch_key(TABLE, checkpoint_key))
    with psycopg.connect(source) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        table = describe_source_table(conn, TABLE)
        found = Reconciler(lake).vanished(conn, table, checkpoint_key)

    assert reported(found) == []
    assert lake_rows_since(lake, table, None)[PK].to_list() == [1, 99]  # it is there, unbounded


def test_a_transaction_without_one_snapshot_is_refused(source, lake):
    with psycopg.connect(source) as conn:  # READ COMMITTED: every statement sees a new snapshot
        table = describe_source_table(conn, TABLE)
        with pytest.raises(RuntimeError, match="REPEATABLE READ"):
            Reconciler(lake).vanished(conn, table, None)


def test_lake_rows_since_reads_the_key_columns_and_leaves_out_deletes(source, lake):
    poller = Poller(source, lake)
    kept, gone = new_order(source, T1), new_order(source, T2)
    poller.poll(reconcile=True)
    touch_order(source, kept, T3)
    delete_order(source, gone)
    poller.poll(reconcile=True)  # one batch: the captured row, then the delete row
    with psycopg.connect(source) as conn:
        table = describe_source_table(conn, TABLE)
    last = read_parquet_object(lake, batches(lake, TABLE)[-1])
    assert last.select(PK, OP).rows() == [(kept, None), (gone, "delete")]

    since = lake_rows_since(lake, table, None)

    assert since.columns == [PK, LAST_UPDATED]
    assert since.sort(PK).rows() == [(1, T0), (kept, T3)]
    assert read_parquet_object(lake, batches(lake, TABLE)[-1], columns=[PK, OP, "absent"]).columns == [PK, OP]
