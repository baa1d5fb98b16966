"""Parquet objects in a bucket: write one as a new immutable batch, read one whole or open it to read
a row group at a time (naming the bucket and key when it can't be read), and read every batch of a table.

Reads stay within the bucket's read limits (ObjectStore.limits): the object's size, then its footer's
row count and decoded size are checked before any of its data is read, so an over-limit object is
named (ObjectOverLimitError) instead of filling memory. An object larger than the first read of its
end is read in place (a local bucket) or streamed to a temporary file (S3), never held as bytes.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import NamedTuple

import polars as pl
import pyarrow.parquet as pq

from reveries_pipeline.lake.listing import new_batches
from reveries_pipeline.lake.object_names import is_batch_key, put_new_batch
from reveries_pipeline.resources.object_errors import UnreadableObjectError
from reveries_pipeline.resources.object_store import ObjectStore

# A read starts with the object's last FOOTER_READ_BYTES (on S3 one ranged GET, which also gives the
# size): enough for the footer of any batch the pipeline writes, and the whole object when it is that
# small (most incremental batches), which then costs the one GET it always did.
FOOTER_READ_BYTES = 1 << 20
_PARQUET_MAGIC = b"PAR1"

# A context manager around each parse: what a bad file's error becomes.
Parsing = Callable[[], AbstractContextManager]


def write_new_parquet(
    store: ObjectStore, table: str, frame: pl.DataFrame | pl.LazyFrame, key: str | None = None
) -> tuple[str, int]:
    """Store `frame` as a new immutable object under the table's prefix (at `key` if given, which
    must be a new batch key of the table); returns (key, bytes). A lazy frame is streamed to the file."""
    if key is not None and not is_batch_key(key, table):
        raise ValueError(f"{key!r} is not a batch key of {table}")
    with tempfile.TemporaryDirectory(prefix="reveries-pq-") as tmp:
        path = Path(tmp) / f"{table}.parquet"
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(path, compression="zstd", statistics=True)
        else:
            frame.write_parquet(path, compression="zstd", statistics=True)
        if key is None:
            key = put_new_batch(store, table, path)
        else:
            store.put_new_file(key, path)  # never replaces: ObjectExistsError if the key is taken
        return key, path.stat().st_size


def read_parquet_object(
    store: ObjectStore, key: str, size: int | None = None, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """Read one parquet batch object within the store's read limits. `size`, when a listing gave it,
    refuses an over-limit object before any request. `columns`, when given, reads only those of them
    the object has (its footer says which), in that order.

    Raises ObjectOverLimitError (naming the object and the limit) before reading any data of an object
    over a limit, UnreadableObjectError (naming the bucket and key) for one that can't be parsed, and
    FileNotFoundError for a missing one."""
    with _batch_object(store, key, size) as (source, metadata, parsing), parsing():
        return pl.read_parquet(source, columns=_present(metadata, columns))


@contextmanager
def opened_parquet_object(store: ObjectStore, key: str, size: int | None = None) -> Iterator[ParquetBatch]:
    """One parquet batch object, open to be read a row group at a time, within the same limits and with
    the same errors as read_parquet_object (a bad row group found later raises UnreadableObjectError too).
    Read in place in a local bucket; an S3 object is streamed to a temporary file kept while it is open."""
    with _batch_object(store, key, size) as (source, metadata, parsing):
        with parsing():
            opened = pq.ParquetFile(source, metadata=metadata)
        yield ParquetBatch(opened, parsing)  # outside the guard: the reader's own errors stay theirs


class ParquetBatch:
    """An open parquet batch: its row count and columns from the footer, its rows a row group at a time."""

    def __init__(self, file: pq.ParquetFile, parsing: Parsing):
        self._file, self._parsing = file, parsing
        self.height: int = file.metadata.num_rows
        self.column_names: list[str] = file.schema_arrow.names

    def row_groups(self, columns: Sequence[str], indexes: Iterable[int] | None = None) -> Iterator[pl.DataFrame]:
        """Each row group's `columns` (those at `indexes`, or all), in order: memory holds one row
        group at a time."""
        for index in range(self._file.num_row_groups) if indexes is None else indexes:
            with self._parsing():
                yield pl.from_arrow(self._file.read_row_group(index, columns=list(columns))).select(columns)

    def row_group_rows(self) -> list[int]:
        return [self._file.metadata.row_group(i).num_rows for i in range(self._file.num_row_groups)]

    def integer_ranges(self, column: str) -> list[IntegerRange | None]:
        """Per row group, the footer's (min, max, null count) of an integer `column`; None for a row
        group whose statistics don't say (absent, or not integers)."""
        if column not in self.column_names:
            return [None] * self._file.num_row_groups
        position = self._file.schema_arrow.get_field_index(column)
        ranges: list[IntegerRange | None] = []
        for index in range(self._file.num_row_groups):
            stats = self._file.metadata.row_group(index).column(position).statistics
            known = stats is not None and stats.has_min_max and stats.has_null_count
            if known and isinstance(stats.min, int) and isinstance(stats.max, int):
                ranges.append(IntegerRange(stats.min, stats.max, stats.null_count))
            else:
                ranges.append(None)
        return ranges


class IntegerRange(NamedTuple):
    low: int
    high: int
    nulls: int


def read_state_frame(store: ObjectStore, key: str) -> pl.DataFrame | None:
    """A parquet state document (under `_state/`), within the same limits; None if there is none. A
    file that can't be parsed raises the reader's own error: state is rebuilt, never quarantined."""
    with _located(store, key, None, nullcontext) as found:
        return None if found is None else pl.read_parquet(found[0])


@contextmanager
def _batch_object(
    store: ObjectStore, key: str, size: int | None
) -> Iterator[tuple[io.BytesIO | str | Path, pq.FileMetaData, Parsing]]:
    """A batch object located within the limits, with the parse guard that names it if it is unreadable;
    FileNotFoundError if it is missing."""
    parsing = _naming_unreadable(store, key)
    with _located(store, key, size, parsing) as found:
        if found is None:
            raise FileNotFoundError(f"object {key!r} is missing from {store.url}")
        yield (*found, parsing)


def _naming_unreadable(store: ObjectStore, key: str) -> Parsing:
    @contextmanager
    def naming_unreadable() -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # polars raises ComputeError, OSError or pyarrow errors for a bad file
            raise UnreadableObjectError(store.url, key, f"{type(exc).__name__}: {exc}") from exc

    return naming_unreadable


def _present(metadata: pq.FileMetaData, columns: Sequence[str] | None) -> list[str] | None:
    """Those of `columns` the object has, in that order (all of them when `columns` is None)."""
    if columns is None:
        return None
    present = set(metadata.schema.to_arrow_schema().names)
    return [c for c in columns if c in present]


@contextmanager
def _located(
    store: ObjectStore, key: str, size: int | None, parsing: Parsing
) -> Iterator[tuple[io.BytesIO | str | Path, pq.FileMetaData] | None]:
    """(where to read the object from, its footer) once its size and footer are within the limits;
    None if there is no such object."""
    if size is not None:
        store.check_within_limits(key, size=size)
    found = store.read_tail(key, FOOTER_READ_BYTES)
    if found is None:
        yield None
        return
    tail, size = found
    store.check_within_limits(key, size=size)
    with parsing():
        footer = _footer_length(tail)
    if footer > len(tail) and len(tail) < size:  # a footer larger than the first read: fetch all of it
        tail, size = store.read_tail(key, footer) or (tail, size)
    with parsing():
        metadata = pq.read_metadata(io.BytesIO(tail))  # parses the footer at the end of the tail
    _check_footer(store, key, metadata)
    if len(tail) >= size:  # the whole object is already here
        yield io.BytesIO(tail), metadata
    elif (path := store.local_path(key)) is not None:
        yield path, metadata  # read in place: only the pages asked for
    else:
        with tempfile.NamedTemporaryFile(prefix="reveries-pq-", suffix=".parquet") as tmp:
            store.copy_head(key, size - len(tail), tmp)
            tmp.write(tail)
            tmp.flush()
            yield tmp.name, metadata


def _footer_length(tail: bytes) -> int:
    """How many bytes at the end of the file the footer takes (its metadata, length and magic)."""
    if len(tail) < 8 or tail[-4:] != _PARQUET_MAGIC:
        raise ValueError("not a parquet file: it does not end with the PAR1 footer marker")
    return int.from_bytes(tail[-8:-4], "little") + 8


def _check_footer(store: ObjectStore, key: str, metadata: pq.FileMetaData) -> None:
    decoded = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    store.check_within_limits(key, rows=metadata.num_rows, decoded_size=decoded)


def read_all_batches(store: ObjectStore, table: str) -> pl.DataFrame:
    """Every batch object of a table, in write order, as one frame (empty if there are none). Raw
    batches of one table may differ in columns or widths (schema drift): columns are unioned."""
    frames = [read_parquet_object(store, o.key, o.size) for o in new_batches(store, table, None)]
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
