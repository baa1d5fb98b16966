"""Values from outside (source rows, reject reasons, error texts) made safe to show in metadata and alerts.

A value is cut to a fixed length, with a marker giving its real length, and its control and format
characters (newlines, escapes, bidi overrides, zero-widths) are written as escapes, so it can neither
flood an event log or an e-mail nor forge lines, table rows or terminal output. Show the result as
text metadata, never as Markdown.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

MAX_VALUE_CHARS = 200  # per value
MAX_SAMPLES = 20  # values listed from a longer sequence


def _escaped(char: str) -> str:
    # Cc (controls, newlines), Cf (bidi overrides, zero-widths), Cs/Co/Cn (surrogates, private, unassigned)
    if unicodedata.category(char)[0] == "C":
        return char.encode("unicode_escape").decode("ascii")
    return char


def bounded(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """`value` as one line of at most `limit` characters plus a marker naming its full length."""
    text = value if isinstance(value, str) else str(value)
    shown = "".join(_escaped(c) for c in text[:limit])
    if len(shown) <= limit and len(text) <= limit:
        return shown
    return f"{shown[:limit]}… [{len(text)} chars]"


def bounded_lines(values: Iterable[object], total: int, limit: int = MAX_SAMPLES) -> str:
    """At most `limit` of `values`, one bounded value a line, then how many of `total` were left out."""
    lines = [bounded(v) for _, v in zip(range(limit), values, strict=False)]
    if total > len(lines):
        lines.append(f"… and {total - len(lines)} more")
    return "\n".join(lines)
