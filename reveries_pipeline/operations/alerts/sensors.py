"""The alert sensors: one on failed runs, one on failed ERROR asset checks and stale assets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    EventLogRecord,
    RunFailureSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from reveries_pipeline.operations.alerts.channels import send_alert
from reveries_pipeline.operations.alerts.config import AlertConfig, config_or_notice
from reveries_pipeline.operations.alerts.event_log import new_records
from reveries_pipeline.operations.alerts.messages import (
    Alert,
    asset_check_message,
    build_failure_message,
    freshness_message,
)

logger = logging.getLogger(__package__)

ALERTS_OFF_REASON = "alerts are off (ALERT_SMTP_HOST / ALERT_EMAIL_TO not set)"

# The event types asset_alert_sensor reads, each with the message it turns a record into. Dispatching on
# the public DagsterEventType avoids importing the (private) classes of the events' data.
ASSET_ALERT_MESSAGES: dict[DagsterEventType, Callable[[EventLogRecord, AlertConfig], Alert | None]] = {
    DagsterEventType.ASSET_CHECK_EVALUATION: asset_check_message,
    DagsterEventType.FRESHNESS_STATE_CHANGE: freshness_message,
}


@run_failure_sensor(
    name="failure_alert_sensor",
    description="E-mails (and optionally posts to Slack) when any job of this code location fails.",
    monitor_all_code_locations=False,
    default_status=DefaultSensorStatus.RUNNING,
)
def failure_alert_sensor(context: RunFailureSensorContext):
    try:
        config = config_or_notice()
        if config is None:
            return SkipReason(ALERTS_OFF_REASON)
        subject, body = build_failure_message(context, config)
        send_alert(config, subject, body)
    except Exception as exc:  # noqa: BLE001 - an alert must not crash the sensor daemon
        logger.exception("failure_alert_sensor could not build/send the alert: %s", type(exc).__name__)
    return None


@sensor(
    name="asset_alert_sensor",
    description="E-mails on failed ERROR-severity asset checks and on assets turning freshness FAIL.",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
)
def asset_alert_sensor(context: SensorEvaluationContext):
    cursor = int(context.cursor) if context.cursor else None
    try:
        records, new_cursor = new_records(context.instance, cursor, ASSET_ALERT_MESSAGES)
    except Exception as exc:  # noqa: BLE001
        logger.exception("asset_alert_sensor could not read the event log: %s", type(exc).__name__)
        return SkipReason("event log not readable")
    # The cursor moves on even when alerts are off, so turning them on does not replay old events.
    if new_cursor is not None and new_cursor != cursor:
        context.update_cursor(str(new_cursor))
    config = config_or_notice()
    if config is None:
        return SkipReason(ALERTS_OFF_REASON)
    if not _send_asset_alerts(records, config):
        return SkipReason(f"no failing ERROR checks or stale assets in {len(records)} new record(s)")
    return None


def _send_asset_alerts(records: Sequence[EventLogRecord], config: AlertConfig) -> int:
    """Send the alert each record calls for; returns how many were sent. A record that cannot be
    turned into an alert is logged and skipped, so it does not hold back the others."""
    sent = 0
    for record in records:
        try:
            message = ASSET_ALERT_MESSAGES[record.event_log_entry.dagster_event.event_type]
            alert = message(record, config)
            if alert is not None:
                send_alert(config, *alert)
                sent += 1
        except Exception as exc:  # noqa: BLE001
            logger.exception("asset_alert_sensor could not alert on record %s: %s", record.storage_id, exc)
    return sent


def make_alert_sensors() -> Sequence[SensorDefinition]:
    """The sensors to add to ``Definitions(sensors=[...])``."""
    return [failure_alert_sensor, asset_alert_sensor]
