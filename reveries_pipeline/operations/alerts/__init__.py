"""Operational alerts: e-mail (SMTP) and, optionally, Slack.

Two sensors, both RUNNING by default once the code location is loaded:

* ``failure_alert_sensor`` - a run-failure sensor over every job of this code location; the message
  names the job, the run id, the failing step key(s) with their error, and links to the run.
* ``asset_alert_sensor`` - reads new event-log records (its cursor is the last storage id seen):
  failed asset checks of severity ERROR (``ASSET_CHECK_EVALUATION``) and assets whose freshness
  turns FAIL (``FRESHNESS_STATE_CHANGE``, emitted by the freshness daemon for assets with a
  ``FreshnessPolicy`` in dagster 1.13).

Configuration comes from the environment (see ``AlertConfig.from_env``). Without ALERT_SMTP_HOST /
ALERT_EMAIL_TO the e-mail channel is off; the sensors then log once per process and do nothing else.
A broken SMTP server is logged, never raised; the SMTP password is never logged.

Modules: ``config`` (environment, secrets), ``channels`` (SMTP and Slack), ``messages`` (alert texts),
``event_log`` (paging through new records) and ``sensors``. They all log to the logger
``reveries_pipeline.operations.alerts``.
"""

from reveries_pipeline.operations.alerts.channels import send_alert
from reveries_pipeline.operations.alerts.config import DEFAULT_WEBSERVER_URL, TLS_MODES, AlertConfig
from reveries_pipeline.operations.alerts.event_log import RECORDS_PER_TICK
from reveries_pipeline.operations.alerts.messages import build_failure_message
from reveries_pipeline.operations.alerts.sensors import asset_alert_sensor, failure_alert_sensor, make_alert_sensors

__all__ = [
    "DEFAULT_WEBSERVER_URL",
    "RECORDS_PER_TICK",
    "TLS_MODES",
    "AlertConfig",
    "asset_alert_sensor",
    "build_failure_message",
    "failure_alert_sensor",
    "make_alert_sensors",
    "send_alert",
]
