"""Logical change capture (`TOTESYS_CAPTURE=logical`): every committed change of the totesys tables, read from the
source's WAL through a logical replication slot and the built-in `pgoutput` plugin (protocol 1).

The cycle, on a psycopg connection outside any transaction (autocommit is simplest), as a role with
REPLICATION that owns the tables:

    settings = LogicalCaptureSettings()                        # publication and slot "reveries"
    first = initial_snapshot(conn, settings, spool_dir)        # creates publication + slot on first use
    ... store first.tables' files as batches ...
    capture = read_changes(conn, settings, spool_dir)          # never moves the slot
    ... store capture.tables' files as batches (even when there are none) ...
    confirm(conn, settings, capture.upto_lsn)                  # only now: the slot frees that WAL

A crash before confirm replays the same changes: exactly once by construction, with downstream
ledgers absorbing replays (a change is named by (_commit_lsn, _change_seq), the same on a replay).

Each spooled file holds one table's rows in change order: the source columns (types as
describe_source_table gives them, all nullable), `_unrepresentable` (as in a polled batch: the text
of a value with no exact Arrow value, left null in its column), then `_op` (snapshot, insert, update, delete,
truncate), `_commit_lsn` (int64; lsn_text prints it), `_commit_time` (timestamp[us, UTC]) and
`_change_seq` (position in its transaction). Updates and deletes carry the whole row: setup sets
REPLICA IDENTITY FULL, whose old row also supplies the TOASTed values an update leaves unchanged.
An update that changes the primary key is written as a delete of the old key and an insert.

setup_sql()/drop_sql() give the DBA's scripts (`reveries totesys setup-cdc`); retained_wal_bytes()
is what an asset check watches: a slot nobody confirms keeps every WAL segment on the source's disk.
A dropped or invalidated slot raises SlotUnavailableError, which says to re-snapshot.

The ingestion asset runs this cycle through ingestion/logical_capture.py, which hands the asset the
same per-table CaptureResult the poll path does (the spool files are ingestion/spool.py's SpoolFile).
"""

from reveries_pipeline.ingestion.logical.capture import read_changes
from reveries_pipeline.ingestion.logical.changes import UnchangedToastError
from reveries_pipeline.ingestion.logical.columns import (
    CHANGE_SEQ,
    COMMIT_LSN,
    COMMIT_TIME,
    OP,
    Op,
    change_schema,
)
from reveries_pipeline.ingestion.logical.lsn import lsn_text, parse_lsn
from reveries_pipeline.ingestion.logical.pgoutput import PgOutputError
from reveries_pipeline.ingestion.logical.settings import LogicalCaptureSettings
from reveries_pipeline.ingestion.logical.setup import drop_sql, ensure_publication_and_slot, setup_sql
from reveries_pipeline.ingestion.logical.slot import (
    PublicationError,
    SlotState,
    SlotUnavailableError,
    confirm,
    retained_wal_bytes,
    slot_state,
)
from reveries_pipeline.ingestion.logical.snapshot import initial_snapshot
from reveries_pipeline.ingestion.logical.spool import ChangeSpool, SlotRead

__all__ = [
    "CHANGE_SEQ",
    "COMMIT_LSN",
    "COMMIT_TIME",
    "OP",
    "ChangeSpool",
    "LogicalCaptureSettings",
    "Op",
    "PgOutputError",
    "PublicationError",
    "SlotState",
    "SlotUnavailableError",
    "SlotRead",
    "UnchangedToastError",
    "change_schema",
    "confirm",
    "drop_sql",
    "ensure_publication_and_slot",
    "initial_snapshot",
    "lsn_text",
    "parse_lsn",
    "read_changes",
    "retained_wal_bytes",
    "setup_sql",
    "slot_state",
]
