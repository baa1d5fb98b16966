"""The change script both capture modes are checked against, and what each mode must show for it.

One script of source changes between two pipeline runs: an insert, two updates of one row, deletes of
a fact and of a dimension row, a three-table transaction and a rolled-back one. `ChangeScript`
applies it and remembers the ids, so the assertions can name exactly what each mode must hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl
import psycopg
from psycopg import sql

from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.parquet import read_parquet_object
from reveries_pipeline.resources import ObjectStore

ROLLED_BACK_UNITS = 424_242  # units_sold of the sales order whose transaction rolls back


def copy_row(conn: psycopg.Connection, table: str, source_id: int, **overrides) -> int:
    """Insert a copy of row `source_id` of `table` (a new serial id) with `overrides`; returns its id."""
    pk = f"{table}_id"
    columns = [
        name
        for (name,) in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = %s AND table_schema = current_schema() ORDER BY ordinal_position",
            (table,),
        )
        if name != pk
    ]
    values = [sql.Placeholder(c) if c in overrides else sql.Identifier(c) for c in columns]
    query = sql.SQL("INSERT INTO {t} ({cols}) SELECT {vals} FROM {t} WHERE {pk} = {src} RETURNING {pk}").format(
        t=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        vals=sql.SQL(", ").join(values),
        pk=sql.Identifier(pk),
        src=sql.Literal(source_id),
    )
    return conn.execute(query, overrides).fetchone()[0]


def _first_id(conn: psycopg.Connection, table: str) -> int:
    query = sql.SQL("SELECT min({}) FROM {}").format(sql.Identifier(f"{table}_id"), sql.Identifier(table))
    return conn.execute(query).fetchone()[0]


@dataclass
class ChangeScript:
    totesys_dsn: str
    doomed_design: int = 0
    inserted_order: int = 0
    updated_order: int = 0
    deleted_payment: int = 0
    new_address: int = 0
    new_counterparty: int = 0
    new_order: int = 0

    def before_first_run(self) -> None:
        """A design nobody orders, so the script can delete it (the source's foreign keys allow it)."""
        with psycopg.connect(self.totesys_dsn, autocommit=True) as conn:
            self.doomed_design = copy_row(conn, "design", _first_id(conn, "design"), design_name="Doomed")

    def apply(self) -> None:
        with psycopg.connect(self.totesys_dsn, autocommit=True) as conn:
            (now,) = conn.execute("SELECT localtimestamp(3)").fetchone()
            order = _first_id(conn, "sales_order")
            self.inserted_order = copy_row(conn, "sales_order", order, last_updated=now, units_sold=11)
            # two updates of one row between runs: logical mode keeps both versions, poll the last
            self.updated_order = order
            for step, units in ((1, 12), (2, 13)):
                conn.execute(
                    "UPDATE sales_order SET units_sold = %s, last_updated = %s WHERE sales_order_id = %s",
                    (units, now + timedelta(milliseconds=step), order),
                )
            self.deleted_payment = _first_id(conn, "payment")
            conn.execute("DELETE FROM payment WHERE payment_id = %s", (self.deleted_payment,))
            conn.execute("DELETE FROM design WHERE design_id = %s", (self.doomed_design,))
            self._three_tables(conn, now)
            self._rolled_back(conn, order)

    def _three_tables(self, conn: psycopg.Connection, now) -> None:
        with conn.transaction():
            self.new_address = copy_row(conn, "address", _first_id(conn, "address"), last_updated=now, city="Oracle")
            self.new_counterparty = copy_row(
                conn, "counterparty", _first_id(conn, "counterparty"), legal_address_id=self.new_address,
                last_updated=now,
            )  # fmt: skip
            self.new_order = copy_row(
                conn, "sales_order", _first_id(conn, "sales_order"), counterparty_id=self.new_counterparty,
                agreed_delivery_location_id=self.new_address, last_updated=now, units_sold=14,
            )  # fmt: skip

    def _rolled_back(self, conn: psycopg.Connection, order: int) -> None:
        class RolledBack(Exception):
            pass

        try:
            with conn.transaction():
                copy_row(conn, "sales_order", order, units_sold=ROLLED_BACK_UNITS)
                raise RolledBack
        except RolledBack:
            pass


def batches_since(store: ObjectStore, table: str, after_key: str | None) -> pl.DataFrame:
    """Every row of the raw batches of `table` written after `after_key`, in write order."""
    frames = [read_parquet_object(store, o.key, o.size) for o in new_batches(store, table, after_key)]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def last_keys(store: ObjectStore, tables) -> dict[str, str | None]:
    return {t: (objs[-1].key if (objs := new_batches(store, t, None)) else None) for t in tables}
