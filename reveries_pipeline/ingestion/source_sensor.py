"""`source_change_sensor`: start the whole chain (etl_job) seconds after totesys changes, cheaply.

Every few seconds it asks the source one tiny question, never scanning a table:
- poll mode: the insert/update/delete counters of the captured tables (pg_stat_user_tables), kept
  as the cursor; any difference (a reset included) is a change;
- logical mode: whether the replication slot holds a committed change of the publication (a peek of
  at most one transaction; pgoutput skips transactions that touch no published table).

While an etl_job or ingestion_job run is queued or running it launches nothing and keeps its
cursor, so a change made meanwhile still starts a run afterwards. Each run carries the fingerprint
it was launched for (FINGERPRINT_TAG): the backstop schedule compares it with the source to tell
whether anything changed since the last successful ingestion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.ingestion.assets import reconcile_run_config
from reveries_pipeline.ingestion.capture_mode import TotesysCapture
from reveries_pipeline.ingestion.logical.lsn import parse_lsn
from reveries_pipeline.ingestion.logical.settings import LogicalCaptureSettings
from reveries_pipeline.ingestion.logical.slot import confirm
from reveries_pipeline.jobs import etl_job, ingestion_job
from reveries_pipeline.lake.batch_sensor import run_in_flight
from reveries_pipeline.resources import PostgresResource
from reveries_pipeline.resources.secrets import scrub

INGESTING_JOBS = (etl_job.name, ingestion_job.name)
FINGERPRINT_TAG = "reveries/source_fingerprint"
RECONCILE_TAG = "reveries/reconcile_deletes"  # the tables a run reconciles, or "all"
SENSOR_INTERVAL_SECONDS = 5
# A quiet publication on a busy server: confirm past other WAL once the slot lags this far behind,
# so the source frees it and each peek stays short (a peek reads everything after the slot).
HEARTBEAT_BYTES = 16 * 1024**2
LOGICAL_FINGERPRINT = "logical"

_COUNTERS = (
    "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del, n_tup_del FROM pg_stat_user_tables"
    " WHERE schemaname = current_schema() AND relname = ANY(%s)"
)
# At most one transaction (upto_nchanges stops after the transaction that reaches it), bounded by
# the WAL flushed before the peek, so "nothing" means nothing published up to that position.
_PEEK = (
    "SELECT count(*) FROM pg_logical_slot_peek_binary_changes("
    "%s, %s::pg_lsn, 1, 'proto_version', '1', 'publication_names', %s)"
)
_SLOT_LAG = (
    "SELECT pg_wal_lsn_diff(%s::pg_lsn, confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = %s"
)


class SlotBusy(Exception):
    """A capture is reading the slot right now."""


@dataclass(frozen=True)
class SourceProbe:
    # poll: {table: [changes, deletes]} counters as compact JSON; logical: LOGICAL_FINGERPRINT
    fingerprint: str
    changed: bool  # versus the reference it was compared with
    # poll: the tables whose delete counter moved since the reference (their deletes need reconciling)
    deleted_in: tuple[str, ...] = ()


def poll_fingerprint(conn: psycopg.Connection, tables=SOURCE_TABLE_NAMES) -> str:
    """The captured tables' change and delete counters, as a stable text (one catalog read, no scan)."""
    counters = {name: (total, deleted) for name, total, deleted in conn.execute(_COUNTERS, (list(tables),))}
    return json.dumps(
        {t: [int(c or 0) for c in counters.get(t, (0, 0))] for t in sorted(tables)}, separators=(",", ":")
    )


def tables_with_deletes(reference: str | None, fingerprint: str) -> tuple[str, ...] | None:
    """The tables whose delete counter differs between two poll fingerprints (a reset too); None when
    the reference can't tell (none, or written without delete counters)."""
    try:
        before = json.loads(reference) if reference else None
    except ValueError:
        return None
    if not isinstance(before, dict) or not all(isinstance(v, list) for v in before.values()):
        return None
    now = json.loads(fingerprint)
    return tuple(t for t, counts in now.items() if before.get(t, [None])[-1] != counts[-1])


def slot_has_changes(conn: psycopg.Connection, settings: LogicalCaptureSettings) -> tuple[bool, str]:
    """Whether the slot holds a committed change of the publication up to the WAL flushed now, and
    that flushed position. A capture holding the slot raises SlotBusy."""
    (flushed,) = conn.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()
    try:
        (count,) = conn.execute(_PEEK, (settings.slot, flushed, settings.publication)).fetchone()
    except psycopg.errors.ObjectInUse as exc:
        raise SlotBusy(str(exc)) from None
    return count > 0, flushed


def probe_source(totesys: PostgresResource, capture: TotesysCapture, reference: str | None) -> SourceProbe:
    """Has totesys changed since `reference`, the fingerprint of the last look or ingestion? (Logical
    mode: does the slot hold changes, or has no logical ingestion been seen yet?)"""
    with totesys.connection(read_only=True) as conn:
        if not capture.is_logical:
            fingerprint = poll_fingerprint(conn)
            return SourceProbe(fingerprint, fingerprint != reference, tables_with_deletes(reference, fingerprint) or ())
        pending, flushed = slot_has_changes(conn, capture.logical_settings())
        lag = None if pending else conn.execute(_SLOT_LAG, (flushed, capture.slot)).fetchone()
    if lag and lag[0] >= HEARTBEAT_BYTES:
        heartbeat(totesys, capture.logical_settings(), flushed)
    # No logical ingestion known yet (a new daemon, or a switch from poll): one run takes the initial
    # snapshot, which the slot alone would never ask for.
    return SourceProbe(LOGICAL_FINGERPRINT, pending or reference != LOGICAL_FINGERPRINT)


def heartbeat(totesys: PostgresResource, settings: LogicalCaptureSettings, flushed: str) -> None:
    """Confirm the slot up to `flushed`: the peek found no published change before it, so nothing
    is skipped, and the source frees the other WAL the slot held (as a capture's confirm would)."""
    with totesys.raw_connection(autocommit=True) as conn:
        try:
            confirm(conn, settings, parse_lsn(flushed))
        except psycopg.errors.ObjectInUse:
            pass  # a capture took the slot: its own confirm moves it


def short_error(exc: BaseException) -> str:
    """The first line of an error, without secrets: what a tick's skip reason shows."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return scrub(f"{type(exc).__name__}: {first}")[:300]


def ingestion_in_flight(instance: DagsterInstance):
    return run_in_flight(instance, INGESTING_JOBS)


def last_successful_ingestion(instance: DagsterInstance):
    """The latest successful etl_job or ingestion_job run (a RunRecord), or None."""
    records = [
        record
        for job in INGESTING_JOBS
        for record in instance.get_run_records(RunsFilter(job_name=job, statuses=[DagsterRunStatus.SUCCESS]), limit=1)
    ]
    return max(records, key=lambda r: r.end_time or 0.0, default=None)


def last_reconciliation(instance: DagsterInstance):
    """The latest successful run that reconciled deletes (a RunRecord), or None."""
    records = instance.get_run_records(
        RunsFilter(job_name=etl_job.name, statuses=[DagsterRunStatus.SUCCESS], tags={RECONCILE_TAG: "all"}), limit=1
    )
    return records[0] if records else None


def fingerprint_tags(probe: SourceProbe) -> dict[str, str]:
    return {FINGERPRINT_TAG: probe.fingerprint}


@sensor(
    job_name=etl_job.name,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts etl_job (ingestion -> processing -> warehouse in one run) when totesys changes: "
    "pg_stat_user_tables counters in poll mode, the replication slot's pending changes in logical mode.",
)
def source_change_sensor(
    context: SensorEvaluationContext, totesys: PostgresResource, totesys_capture: TotesysCapture
) -> SensorResult | SkipReason:
    if (run := ingestion_in_flight(context.instance)) is not None:
        return SkipReason(f"waiting for {run.job_name} run {run.run_id[:8]} ({run.status.value})")
    reference = context.cursor
    if reference is None and (last := last_successful_ingestion(context.instance)) is not None:
        reference = last.dagster_run.tags.get(FINGERPRINT_TAG)  # a restarted daemon: only what is new
    try:
        probe = probe_source(totesys, totesys_capture, reference)
    except SlotBusy:
        return SkipReason("the replication slot is in use (a capture is reading it): trying again next tick")
    except (psycopg.Error, OSError) as exc:
        return SkipReason(f"totesys could not be read ({totesys.safe_name}): {short_error(exc)}")
    if not probe.changed:
        return SensorResult(skip_reason="totesys unchanged", cursor=probe.fingerprint)
    return SensorResult(run_requests=[run_request(probe)], cursor=probe.fingerprint)


def run_request(probe: SourceProbe) -> RunRequest:
    """etl_job for what changed: rows deleted in some tables (poll mode) reconcile those tables, so the
    deletes reach the warehouse in the same run."""
    if not probe.deleted_in:
        return RunRequest(tags=fingerprint_tags(probe))
    tags = {**fingerprint_tags(probe), RECONCILE_TAG: ",".join(probe.deleted_in)}
    return RunRequest(run_config=reconcile_run_config(probe.deleted_in), tags=tags)


def backstop_skip_reason(
    instance: DagsterInstance, totesys: PostgresResource, capture: TotesysCapture, now: datetime, interval: timedelta
) -> tuple[str | None, SourceProbe | None]:
    """Why the backstop schedule need not launch (None: launch), and the probe it made, if any.

    Not needed while an ingestion is queued or running, after one succeeded within `interval`, or
    when the source is unchanged since the last successful one. A source it can't read launches
    anyway: that run fails where an operator sees it."""
    if (run := ingestion_in_flight(instance)) is not None:
        return f"{run.job_name} run {run.run_id[:8]} is {run.status.value}", None
    last = last_successful_ingestion(instance)
    if last is not None and last.end_time is not None:
        ago = int((now.astimezone(UTC) - datetime.fromtimestamp(last.end_time, UTC)).total_seconds())
        if ago < interval.total_seconds():
            return f"{last.dagster_run.job_name} run {last.dagster_run.run_id[:8]} ingested {ago} s ago", None
    reference = last.dagster_run.tags.get(FINGERPRINT_TAG) if last is not None else None
    try:
        probe = probe_source(totesys, capture, reference)
    except (SlotBusy, psycopg.Error, OSError):
        return None, None
    if not probe.changed:
        return "totesys unchanged since the last successful ingestion", probe
    return None, probe
