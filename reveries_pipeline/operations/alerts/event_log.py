"""New event-log records for ``asset_alert_sensor``, paged by storage id (the sensor's cursor)."""

from __future__ import annotations

from collections.abc import Iterable

from dagster import DagsterEventType, DagsterInstance, EventLogRecord, EventRecordsFilter

#: event-log records read per event type and tick of ``asset_alert_sensor``
RECORDS_PER_TICK = 500


def new_records(
    instance: DagsterInstance, cursor: int | None, event_types: Iterable[DagsterEventType]
) -> tuple[list[EventLogRecord], int | None]:
    """New records of ``event_types`` after ``cursor``, ascending, and the new cursor. When a type hits
    the page size, stop at its last record so nothing of the other types is skipped."""
    fetched: list[EventLogRecord] = []
    cutoffs = []
    for event_type in event_types:
        records = list(
            instance.event_log_storage.get_event_records(
                EventRecordsFilter(event_type=event_type, after_cursor=cursor),
                limit=RECORDS_PER_TICK,
                ascending=True,
            )
        )
        if len(records) >= RECORDS_PER_TICK:
            cutoffs.append(records[-1].storage_id)
        fetched.extend(records)
    fetched.sort(key=lambda r: r.storage_id)
    if cutoffs:
        fetched = [r for r in fetched if r.storage_id <= min(cutoffs)]
    new_cursor = fetched[-1].storage_id if fetched else cursor
    return fetched, new_cursor
