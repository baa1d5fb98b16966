"""Log sequence numbers: int64 in spool files (they sort), 'X/Y' text as PostgreSQL prints them."""

from __future__ import annotations


def lsn_text(lsn: int) -> str:
    """'0/1A2B3C4' for 0x1A2B3C4, as pg_lsn prints it."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    high, _, low = text.partition("/")
    if not high or not low:
        raise ValueError(f"not an LSN: {text!r}")
    return (int(high, 16) << 32) | int(low, 16)
