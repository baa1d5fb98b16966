"""Poll mode's deletes: the captured rows that have vanished from the source.

A poll capture reads `last_updated >= mark - lookback`, so it never sees a row that is gone. At a
slower cadence, inside a table's capture transaction (the same snapshot), the reconciliation compares
the rows that may still be alive downstream with the primary keys the source has now:

- the rows alive at the last reconciliation: its state, `_state/ingestion/known_rows/<table>.parquet`
  ((pk, last_updated) of every source row then, and the raw batch key it covers up to);
- the latest version per pk in the raw batches after that key (pk, last_updated and `_op` only);
  a pk whose latest row is a delete is already gone downstream, so it leaves the state too.

Each one the source no longer has becomes a delete row: its pk and the last_updated of its last
captured version, every other column null, `_op` = 'delete'. A row inserted and deleted between two
captures was never captured, so it is never reported. The source is read in full every time (pk and
last_updated only, with COPY); the lake only since the state, so after the first reconciliation (which
reads every batch's key columns) the lake's cost follows the change.

Call sequence, per table, in its REPEATABLE READ capture transaction after the capture:

    reconciler = Reconciler(ingestion_lake)
    found = reconciler.vanished(conn, capture.source, checkpoint.last_batch_key)
    # spool with delete_batch_schema(source): the captured rows, then found.rows; store the batch
    reconciler.save(found, stored_key or checkpoint.last_batch_key)

The state is saved only once the batch is stored. A run that dies before storing it finds the same
rows again next time; one that dies between storing and saving doesn't repeat them (the batch's
delete rows are among the batches since the old state).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import polars as pl
import psycopg
import pyarrow as pa

from reveries_pipeline.ingestion.logical.columns import OP, Op
from reveries_pipeline.ingestion.source_reader import rows_updated_since
from reveries_pipeline.ingestion.source_schema import SourceTable
from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.object_names import is_batch_key
from reveries_pipeline.lake.parquet import read_parquet_object, read_state_frame
from reveries_pipeline.resources.object_store import STATE_PREFIX, ObjectStore

KNOWN_ROWS_PREFIX = f"{STATE_PREFIX}ingestion/known_rows/"
LAST_UPDATED = "last_updated"
# The state's first row has a null pk and the batch key the state covers (a table with no rows still has one).
COVERED_KEY = "_covered_key"


def delete_batch_schema(source: SourceTable) -> pa.Schema:
    """A poll batch that carries delete rows: the polled columns, nullable but the key (a delete row
    has only its key and last_updated), then `_op` (null for a captured row, 'delete')."""
    polled = source.polled_schema
    fields = [f if f.name == source.primary_key else f.with_nullable(True) for f in polled]
    return pa.schema([*fields, pa.field(OP, pa.string())], metadata=polled.metadata)


def _time_type(source: SourceTable) -> pl.Datetime:
    return pl.Datetime(source.schema.field(LAST_UPDATED).type.unit)


def _key_columns(source: SourceTable) -> dict[str, pl.DataType]:
    return {source.primary_key: pl.Int64, LAST_UPDATED: _time_type(source)}


def _key_exprs(source: SourceTable) -> list[pl.Expr]:
    return [pl.col(name).cast(dtype) for name, dtype in _key_columns(source).items()]


def _as_keys(source: SourceTable, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(_key_exprs(source))


def source_rows(conn: psycopg.Connection, source: SourceTable) -> pl.DataFrame:
    """(pk, last_updated) of every row now in the source, read with COPY, nothing else. A last_updated
    with no exact value (infinity, BC) reads as null: its row is still there."""
    columns = (source.column(source.primary_key), source.column(LAST_UPDATED))
    if None in columns:
        raise LookupError(f"source table {source.name!r} has no {LAST_UPDATED} column to reconcile by")
    keys_only = SourceTable(source.name, source.primary_key, columns)
    blocks = [_as_keys(source, pl.from_arrow(block)) for block in rows_updated_since(conn, keys_only, None)]
    return pl.concat([pl.DataFrame(schema=_key_columns(source)), *blocks])


def _batch_keys(lake: ObjectStore, source: SourceTable, key: str, size: int) -> pl.DataFrame:
    frame = read_parquet_object(lake, key, size, columns=[source.primary_key, LAST_UPDATED, OP])
    op = pl.col(OP) if OP in frame.columns else pl.lit(None)  # a batch written without reconciling has none
    return frame.select(*_key_exprs(source), op.cast(pl.String).alias(OP))


def _latest_in_lake(
    lake: ObjectStore, source: SourceTable, covered_key: str | None, upto_key: str | None
) -> tuple[pl.DataFrame, int]:
    """The latest (pk, last_updated, _op) per pk in the raw batches after `covered_key` (all when
    None) up to `upto_key` (no bound when None), and how many batches that read."""
    batches = [o for o in new_batches(lake, source.name, covered_key) if upto_key is None or o.key <= upto_key]
    frames = [_batch_keys(lake, source, o.key, o.size) for o in batches]
    empty = pl.DataFrame(schema={**_key_columns(source), OP: pl.String})
    pk = source.primary_key
    # batches in write order, rows in change order within one: the last row of a pk is its latest
    rows = pl.concat([empty, *frames]).filter(pl.col(pk).is_not_null())  # a logical truncate has no pk
    return rows.unique(subset=pk, keep="last", maintain_order=True), len(batches)


def _is_delete() -> pl.Expr:
    return pl.col(OP).eq_missing(Op.DELETE.value)


def lake_rows_since(
    lake: ObjectStore, source: SourceTable, covered_key: str | None, upto_key: str | None = None
) -> pl.DataFrame:
    """The latest (pk, last_updated) per pk in the raw batches after `covered_key` (every batch when
    None, none past `upto_key`), leaving out the pks whose latest row is a delete."""
    latest, _ = _latest_in_lake(lake, source, covered_key, upto_key)
    return latest.filter(~_is_delete()).drop(OP)


def vanished_keys(known: pl.DataFrame, lake_latest: pl.DataFrame, present: pl.DataFrame, pk: str) -> pl.DataFrame:
    """(pk, last_updated of its last captured version) of every row known alive at the last
    reconciliation or captured since, and not deleted since, that `present` (the source now) lacks."""
    known_unchanged = known.join(lake_latest, on=pk, how="anti")  # a later version or a delete wins
    captured_alive = lake_latest.filter(~_is_delete()).drop(OP)
    return pl.concat([known_unchanged, captured_alive]).join(present, on=pk, how="anti").sort(pk)


def delete_rows(source: SourceTable, vanished: pl.DataFrame) -> pl.DataFrame:
    """The delete rows of `vanished` (pk, last_updated) in delete_batch_schema(source)'s columns."""
    empty = pl.from_arrow(delete_batch_schema(source).empty_table())
    keys = vanished.cast({name: empty.schema[name] for name in vanished.columns})
    rows = keys.with_columns(pl.lit(Op.DELETE.value, pl.String).alias(OP))
    return pl.concat([empty, rows], how="diagonal").select(empty.columns)


def _require_one_snapshot(conn: psycopg.Connection) -> None:
    """Refuse a transaction whose statements each see a new snapshot: a row the capture read and that
    was deleted before the source rows are read would be in neither the lake nor the state saved."""
    level = conn.execute("SHOW transaction_isolation").fetchone()[0]
    if level not in ("repeatable read", "serializable"):
        raise RuntimeError(
            f"the delete reconciliation must run in the capture's REPEATABLE READ transaction, not {level!r}"
        )


@dataclass(frozen=True)
class KnownRows:
    """A table's reconciliation state: the rows alive in the source at the last reconciliation, and
    the raw batch key it covers up to (None: no batch yet)."""

    rows: pl.DataFrame  # (pk Int64, last_updated)
    covered_key: str | None


@dataclass(frozen=True)
class Vanished:
    """What one reconciliation found, and the state to save once the batch holding `rows` is stored."""

    table: str
    rows: pl.DataFrame  # delete rows, in delete_batch_schema(source)'s columns: append after the captured rows
    state_after: pl.DataFrame  # (pk, last_updated) of every row in the source now
    known_before: int  # rows in the state read (0 on the first reconciliation)
    covered_before: str | None  # the batch key that state covered
    first: bool  # there was no state: every batch's key columns were read
    batches_read: int
    seconds: float


class Reconciler:
    def __init__(self, lake: ObjectStore):
        self.lake = lake

    @staticmethod
    def state_key(table: str) -> str:
        return f"{KNOWN_ROWS_PREFIX}{table}.parquet"

    def load(self, source: SourceTable) -> KnownRows | None:
        """The table's state, or None before its first reconciliation."""
        frame = read_state_frame(self.lake, self.state_key(source.name))  # within the read limits
        if frame is None:
            return None
        covered = frame.get_column(COVERED_KEY).drop_nulls()
        rows = _as_keys(source, frame.filter(pl.col(source.primary_key).is_not_null()))
        return KnownRows(rows, covered[0] if covered.len() else None)

    def vanished(self, conn: psycopg.Connection, source: SourceTable, last_batch_key: str | None) -> Vanished:
        """The rows gone from the source since they were captured. Call it in the table's capture
        transaction; `last_batch_key` (the table's checkpoint's) bounds the batches read, so a batch
        written after this snapshot, by anyone, is never mistaken for a row the source has lost."""
        started = time.perf_counter()
        _require_one_snapshot(conn)
        state = self.load(source)
        known = state.rows if state else pl.DataFrame(schema=_key_columns(source))
        covered = state.covered_key if state else None
        lake_latest, batches_read = _latest_in_lake(self.lake, source, covered, last_batch_key)
        present = source_rows(conn, source)
        gone = vanished_keys(known, lake_latest, present, source.primary_key)
        return Vanished(
            table=source.name,
            rows=delete_rows(source, gone),
            state_after=present,
            known_before=known.height,
            covered_before=covered,
            first=state is None,
            batches_read=batches_read,
            seconds=time.perf_counter() - started,
        )

    def save(self, found: Vanished, covered_key: str | None) -> None:
        """Commit `found.state_after` as covering every batch up to `covered_key`: the batch this run
        stored, or the table's last batch key when it stored none. Only after that batch is stored."""
        if covered_key is not None and not is_batch_key(covered_key, found.table):
            raise ValueError(f"{covered_key!r} is not a raw batch key of table {found.table!r}")
        marker = pl.DataFrame({COVERED_KEY: [covered_key]}, schema={COVERED_KEY: pl.String})
        buffer = io.BytesIO()
        pl.concat([marker, found.state_after], how="diagonal").write_parquet(buffer, compression="zstd")
        self.lake.put_state(self.state_key(found.table), buffer.getvalue())
