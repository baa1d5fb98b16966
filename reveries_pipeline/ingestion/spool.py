"""The local spool: parquet files of captures in flight, in directories removed after every run.

Each ingestion run spools its parquet files in its own `reveries-raw-*` directory in the temp folder
and removes it when done, succeeded or failed. A killed run can't, so every run first sweeps the
spool directories whose run is gone: each holds a pid file naming its host and process.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SPOOL_PREFIX = "reveries-raw-"
OWNER_FILE = "owner.pid"
# A directory whose owner can't be checked (no pid file yet, or written on another host sharing the
# temp folder) is only swept once it is this old: no capture runs this long.
UNOWNED_MAX_AGE_S = 24 * 3600


def _owner_alive(host: str, pid: int) -> bool | None:
    """True/False for a process on this host; None when it can't be known (another host)."""
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _is_stale(path: Path) -> bool:
    try:
        host, pid = (path / OWNER_FILE).read_text().split()
        alive = _owner_alive(host, int(pid))
    except (FileNotFoundError, ValueError):
        alive = None
    if alive is None:
        return time.time() - path.stat().st_mtime > UNOWNED_MAX_AGE_S
    return not alive


def sweep_stale_spools(root: Path | None = None) -> list[Path]:
    """Remove spool directories left by runs that are gone; returns what was removed."""
    swept = []
    for path in Path(root or tempfile.gettempdir()).glob(f"{SPOOL_PREFIX}*"):
        try:
            if path.is_dir() and _is_stale(path):
                shutil.rmtree(path)
                swept.append(path)
        except OSError:  # removed meanwhile by another run's sweep, or not ours to remove
            continue
    return swept


@contextmanager
def spool_directory() -> Iterator[Path]:
    """A fresh spool directory owned by this process, removed on exit whatever happened."""
    path = Path(tempfile.mkdtemp(prefix=SPOOL_PREFIX))
    try:
        (path / OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}")
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class SpoolFile:
    """One table's parquet spool file in either capture mode, opened on the first row, and the range of
    last_updated written. Poll writes frames of COPY blocks; logical writes row groups of changes.

    Use it as a context manager (or call close()): the file is complete once the block exits.
    """

    path: Path
    schema: pa.Schema
    writer: pq.ParquetWriter | None = None
    rows: int = 0
    low: datetime | None = None
    high: datetime | None = None

    def write(self, frame: pl.DataFrame) -> None:
        self.write_arrow(frame.to_arrow())

    def write_arrow(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if "last_updated" in table.column_names:
            # nulls (a last_updated with no exact value, a delete's missing one) are left out of the range
            bounds = pc.min_max(table["last_updated"]).as_py()
            self.low = min((v for v in (self.low, bounds["min"]) if v is not None), default=None)
            self.high = max((v for v in (self.high, bounds["max"]) if v is not None), default=None)
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # the schema carries the source schema as metadata: every batch records what it was written with
            self.writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self.writer.write_table(table.cast(self.schema))
        self.rows += table.num_rows

    @property
    def bytes(self) -> int:
        return self.path.stat().st_size if self.rows else 0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def __enter__(self) -> SpoolFile:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
