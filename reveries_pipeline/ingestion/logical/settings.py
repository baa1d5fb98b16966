"""What a logical capture is named and how much it holds in memory at once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES

# PostgreSQL's own rule for slot names; publications follow it too so both read the same in SQL and logs.
_NAME = re.compile(r"[a-z0-9_]{1,63}")


@dataclass(frozen=True)
class LogicalCaptureSettings:
    """`publication` and `slot` are created on first use; `chunk_rows` bounds the rows held in
    memory (fetched from the server, and buffered per table before a parquet row group is written)."""

    publication: str = "reveries"
    slot: str = "reveries"
    tables: tuple[str, ...] = SOURCE_TABLE_NAMES
    chunk_rows: int = 10_000

    def __post_init__(self) -> None:
        for what, name in (("publication", self.publication), ("slot", self.slot)):
            if not _NAME.fullmatch(name):
                raise ValueError(f"{what} name {name!r} must be 1-63 of a-z, 0-9 and _")
        if self.chunk_rows < 1:
            raise ValueError("chunk_rows must be positive")
        if not self.tables:
            raise ValueError("a publication needs at least one table")
