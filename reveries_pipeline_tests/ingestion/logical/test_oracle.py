"""A scripted sequence of committed and rolled-back transactions: the capture is exactly what was
committed, in commit order, each row as the source had it right after (or, for a delete, before)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.logical import confirm, initial_snapshot, read_changes
from reveries_pipeline_tests.ingestion.logical.support import (
    CAPTURE_COLUMNS,
    T0,
    delete,
    insert,
    replay,
    source_rows,
    spooled,
    update,
)


class Oracle:
    """Runs statements and records the change row each committed one must produce."""

    def __init__(self, conn):
        self.conn, self.expected, self.pending = conn, [], []

    def row(self, table: str, key: int) -> dict:
        return source_rows(self.conn, table)[key]

    def insert(self, table: str, **values) -> int:
        key = insert(self.conn, table, **values)
        self.pending.append((table, "insert", self.row(table, key)))
        return key

    def update(self, table: str, key: int, **values) -> None:
        update(self.conn, table, key, **values)
        self.pending.append((table, "update", self.row(table, key)))

    def delete(self, table: str, key: int) -> None:
        before = self.row(table, key)
        delete(self.conn, table, key)
        self.pending.append((table, "delete", before))

    def commit(self) -> None:
        self.expected.append(self.pending)
        self.pending = []

    def rollback(self) -> None:
        self.pending = []


def captured_transactions(capture) -> list[list[tuple[str, str, dict]]]:
    """The capture's rows of every table, merged back into transactions in commit order."""
    rows = [(r["_commit_lsn"], r["_change_seq"], table, r) for table, rs in spooled(capture).items() for r in rs]
    transactions: dict[int, list] = {}
    for lsn, _, table, r in sorted(rows, key=lambda x: x[:2]):
        values = {k: v for k, v in r.items() if k not in CAPTURE_COLUMNS}
        transactions.setdefault(lsn, []).append((table, r["_op"], values))
    return list(transactions.values())


def test_the_capture_is_exactly_what_was_committed(conn, cdc_settings, spool_dirs):
    confirm(conn, cdc_settings, initial_snapshot(conn, cdc_settings, next(spool_dirs)).upto_lsn)
    o = Oracle(conn)
    step = iter(range(1, 1000))

    def later():
        return T0 + timedelta(milliseconds=next(step))

    department = o.insert("department", department_name="Returns", location=None, manager="Shelley Levene")
    o.commit()
    order = o.insert("sales_order", design_id=1, staff_id=1, counterparty_id=1, units_sold=10,
                     unit_price=Decimal("2.50"), currency_id=1, agreed_delivery_date="2024-11-20",
                     agreed_payment_date="2024-11-21", agreed_delivery_location_id=1, last_updated=later())  # fmt: skip
    o.commit()
    o.update("sales_order", order, unit_price=Decimal("2.75"), last_updated=later())
    o.commit()
    o.update("sales_order", order, unit_price=Decimal("2.80"), last_updated=later())
    o.commit()
    with conn.transaction():  # several tables, one transaction
        transaction = o.insert("transaction", transaction_type="SALE", sales_order_id=order, last_updated=later())
        payment = o.insert("payment", transaction_id=transaction, counterparty_id=1, payment_amount=Decimal("28.00"),
                           currency_id=1, payment_type_id=1, paid=False, payment_date="2024-11-21",
                           company_ac_number=1, counterparty_ac_number=2, last_updated=later())  # fmt: skip
        o.update("sales_order", order, units_sold=11, last_updated=later())
    o.commit()
    with pytest.raises(RuntimeError), conn.transaction():  # never committed: never captured
        o.update("currency", 1, currency_code="XXX")
        o.insert("design", design_name="Ghost", file_location="/", file_name="ghost.json")
        o.delete("payment", payment)
        raise RuntimeError("roll back")
    o.rollback()
    o.update("payment", payment, paid=True, last_updated=later())
    o.commit()
    o.delete("payment", payment)  # a fact row
    o.commit()
    o.delete("department", department)  # a dimension row
    o.commit()
    with conn.transaction():  # a row inserted and deleted in one transaction still shows both
        o.delete("currency", o.insert("currency", currency_code="TMP"))
    o.commit()

    capture = read_changes(conn, cdc_settings, next(spool_dirs))
    assert captured_transactions(capture) == o.expected
    assert capture.transactions == len(o.expected) == 9
    multi = [r for rows in spooled(capture).values() for r in rows if r["_op"] == "insert" and r.get("transaction_id")]
    assert len({(r["_commit_lsn"], r["_commit_time"]) for r in multi}) == 1  # payment and transaction: one commit
    source = {t: source_rows(conn, t) for t in SOURCE_TABLE_NAMES}
    assert replay([capture])["sales_order"][order] == source["sales_order"][order]
    assert payment not in source["payment"] and department not in source["department"]
