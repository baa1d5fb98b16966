"""The connection state every read of the source needs."""

from __future__ import annotations

import psycopg
from psycopg.pq import TransactionStatus

# Output functions follow the session's settings, and the values are parsed from their text: fix the
# formats for the read's transaction whatever the connection or the role's defaults say.
_OUTPUT_FORMATS = {
    "DateStyle": "ISO",
    "TimeZone": "UTC",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}


def require_idle(conn: psycopg.Connection) -> None:
    """Slot creation refuses a transaction that wrote, and a confirm must not wait on the caller's
    commit: every function here runs its own transactions, on a connection outside one."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise ValueError("logical capture needs a connection outside any transaction (autocommit, or idle)")


def pin_output_formats(conn: psycopg.Connection) -> None:
    """SET LOCAL the formats values are written in, for the current transaction only."""
    for name, value in _OUTPUT_FORMATS.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))
