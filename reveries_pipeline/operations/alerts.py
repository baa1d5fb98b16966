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
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    DagsterEventType,
    DefaultSensorStatus,
    EventRecordsFilter,
    RunFailureSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

logger = logging.getLogger(__name__)

DEFAULT_WEBSERVER_URL = "http://localhost:3000"
TLS_MODES = ("ssl", "starttls", "none")
#: event-log records read per event type and tick of ``asset_alert_sensor``
RECORDS_PER_TICK = 500

_alerts_off_logged = False


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go. ``password`` is excluded from ``repr`` so it cannot leak into logs."""

    smtp_host: str
    email_to: tuple[str, ...]
    smtp_port: int = 587
    smtp_user: str | None = None
    password: str | None = field(default=None, repr=False)
    email_from: str = "reveries-alerts@localhost"
    tls: str = "starttls"
    webserver_url: str = DEFAULT_WEBSERVER_URL
    slack_token: str | None = field(default=None, repr=False)
    slack_channel: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AlertConfig | None:
        env = os.environ if environ is None else environ
        host = (env.get("ALERT_SMTP_HOST") or "").strip()
        to = tuple(a.strip() for a in (env.get("ALERT_EMAIL_TO") or "").split(",") if a.strip())
        if not host or not to:
            return None
        tls = (env.get("ALERT_SMTP_TLS") or "starttls").strip().lower()
        if tls not in TLS_MODES:
            logger.warning("ALERT_SMTP_TLS=%r is not one of %s; using starttls", tls, TLS_MODES)
            tls = "starttls"
        default_port = {"ssl": 465, "starttls": 587, "none": 25}[tls]
        port_raw = (env.get("ALERT_SMTP_PORT") or "").strip()
        try:
            port = int(port_raw) if port_raw else default_port
        except ValueError:
            logger.warning("ALERT_SMTP_PORT=%r is not a number; using %d", port_raw, default_port)
            port = default_port
        return cls(
            smtp_host=host,
            email_to=to,
            smtp_port=port,
            smtp_user=(env.get("ALERT_SMTP_USER") or "").strip() or None,
            password=env.get("ALERT_SMTP_PASSWORD") or None,
            email_from=(env.get("ALERT_EMAIL_FROM") or "").strip() or "reveries-alerts@localhost",
            tls=tls,
            webserver_url=(env.get("DAGSTER_WEBSERVER_URL") or DEFAULT_WEBSERVER_URL).rstrip("/"),
            slack_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_channel=(env.get("ALERT_SLACK_CHANNEL") or "").strip() or None,
        )

    def run_url(self, run_id: str) -> str:
        return f"{self.webserver_url}/runs/{run_id}"


def _redact(text: str, config: AlertConfig) -> str:
    for secret in (config.password, config.slack_token):
        if secret:
            text = text.replace(secret, "***")
    return text


def send_alert(config: AlertConfig, subject: str, body: str) -> bool:
    """Send one e-mail (and a Slack post when configured). Returns True when the e-mail went out.

    Never raises: SMTP/Slack errors are logged (with secrets redacted)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = config.email_from
    msg["To"] = ", ".join(config.email_to)
    msg.set_content(body)
    sent = False
    try:
        if config.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                config.smtp_host,
                config.smtp_port,
                timeout=config.timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout)
        with client:
            if config.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                client.login(config.smtp_user, config.password or "")
            client.send_message(msg)
        sent = True
        logger.info("alert e-mail sent to %s: %s", ", ".join(config.email_to), subject)
    except Exception as exc:  # noqa: BLE001 - an alert channel must never break a sensor
        logger.error(
            "could not send alert e-mail via %s:%s (%s: %s)",
            config.smtp_host,
            config.smtp_port,
            type(exc).__name__,
            _redact(str(exc), config),
        )
    _post_slack(config, subject, body)
    return sent


def _post_slack(config: AlertConfig, subject: str, body: str) -> None:
    if not (config.slack_token and config.slack_channel):
        return
    try:
        from dagster_slack import SlackResource  # optional extra: pip install .[slack]
    except ImportError:
        logger.info("SLACK_BOT_TOKEN is set but dagster_slack is not installed; Slack alert skipped")
        return
    try:
        client = SlackResource(token=config.slack_token).get_client()
        client.chat_postMessage(channel=config.slack_channel, text=f"*{subject}*\n{body}")
    except Exception as exc:  # noqa: BLE001
        logger.error("could not post alert to Slack (%s: %s)", type(exc).__name__, _redact(str(exc), config))


def _config_or_notice() -> AlertConfig | None:
    global _alerts_off_logged
    config = AlertConfig.from_env()
    if config is None and not _alerts_off_logged:
        _alerts_off_logged = True
        logger.warning("alerts are off: set ALERT_SMTP_HOST and ALERT_EMAIL_TO to receive e-mail alerts")
    return config


def _first_line(text: str | None, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ------------------------------------------------------------------------------------------- runs


def _root_cause(error) -> str:
    """The innermost exception of a SerializableErrorInfo chain, e.g. 'ValueError: boom'."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return _first_line(error.message)


def build_failure_message(context: RunFailureSensorContext, config: AlertConfig) -> tuple[str, str]:
    run = context.dagster_run
    run_id, job = run.run_id, run.job_name
    steps: list[tuple[str, str]] = []
    summaries: list[str] = []
    for entry in context.instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        if event is None:
            continue
        error = event.step_failure_data.error if event.step_failure_data else None
        message = error.to_string().strip() if error else (event.message or entry.user_message or "")
        steps.append((event.step_key or "?", message))
        summaries.append(_root_cause(error) if error else _first_line(message))
    run_error = context.failure_event.message or ""
    job_failure = context.failure_event.job_failure_data
    if job_failure is not None and job_failure.error is not None:
        run_error = job_failure.error.to_string().strip()

    summary = _first_line(summaries[0] if summaries else run_error) or "run failed"
    step_keys = ", ".join(key for key, _ in steps) or "(no step failed; run-level failure)"
    subject = f"[reveries] job {job} failed: {step_keys} - {summary}"
    lines = [
        f"Job:     {job}",
        f"Run id:  {run_id}",
        f"Run:     {config.run_url(run_id)}",
        f"Failed step(s): {step_keys}",
        "",
        f"Run failure: {run_error or summary}",
    ]
    for key, message in steps:
        lines += ["", f"--- step {key} ---", message]
    return subject, _redact("\n".join(lines), config)


@run_failure_sensor(
    name="failure_alert_sensor",
    description="E-mails (and optionally posts to Slack) when any job of this code location fails.",
    monitor_all_code_locations=False,
    default_status=DefaultSensorStatus.RUNNING,
)
def failure_alert_sensor(context: RunFailureSensorContext):
    try:
        config = _config_or_notice()
        if config is None:
            return SkipReason("alerts are off (ALERT_SMTP_HOST / ALERT_EMAIL_TO not set)")
        subject, body = build_failure_message(context, config)
        send_alert(config, subject, body)
    except Exception as exc:  # noqa: BLE001 - an alert must not crash the sensor daemon
        logger.exception("failure_alert_sensor could not build/send the alert: %s", type(exc).__name__)
    return None


# ------------------------------------------------------------------------- checks and freshness


def _new_records(instance, cursor: int | None) -> tuple[list, int | None]:
    """New ASSET_CHECK_EVALUATION and FRESHNESS_STATE_CHANGE records after ``cursor``, ascending,
    and the new cursor. When a type hits the page size, stop at its last record so nothing of the
    other type is skipped."""
    fetched = []
    cutoffs = []
    for event_type in (DagsterEventType.ASSET_CHECK_EVALUATION, DagsterEventType.FRESHNESS_STATE_CHANGE):
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


def _format_metadata(metadata) -> list[str]:
    lines = []
    for key, value in (metadata or {}).items():
        shown = getattr(value, "value", value)
        lines.append(f"  {key}: {shown}")
    return lines


def _check_alert(record, config: AlertConfig) -> tuple[str, str] | None:
    evaluation = record.event_log_entry.dagster_event.event_specific_data
    if not isinstance(evaluation, AssetCheckEvaluation):
        return None
    if evaluation.passed or evaluation.severity != AssetCheckSeverity.ERROR:
        return None
    asset = evaluation.asset_key.to_user_string()
    subject = f"[reveries] asset check {asset}:{evaluation.check_name} failed (ERROR)"
    lines = [
        f"Asset:   {asset}",
        f"Check:   {evaluation.check_name}",
        "Severity: ERROR",
        f"Run id:  {record.run_id}",
        f"Run:     {config.run_url(record.run_id)}",
    ]
    if evaluation.partition:
        lines.append(f"Partition: {evaluation.partition}")
    if evaluation.description:
        lines += ["", f"Description: {evaluation.description}"]
    meta = _format_metadata(evaluation.metadata)
    if meta:
        lines += ["", "Metadata:", *meta]
    return subject, _redact("\n".join(lines), config)


def _freshness_alert(record, config: AlertConfig) -> tuple[str, str] | None:
    from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

    change = record.event_log_entry.dagster_event.event_specific_data
    if not isinstance(change, FreshnessStateChange) or change.new_state != FreshnessState.FAIL:
        return None
    asset = change.key.to_user_string()
    subject = f"[reveries] asset {asset} is stale (freshness FAIL)"
    body = "\n".join(
        [
            f"Asset:    {asset}",
            f"Freshness: {change.previous_state.value} -> {change.new_state.value}",
            f"Asset page: {config.webserver_url}/assets/{'/'.join(change.key.path)}",
        ]
    )
    return subject, body


@sensor(
    name="asset_alert_sensor",
    description="E-mails on failed ERROR-severity asset checks and on assets turning freshness FAIL.",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
)
def asset_alert_sensor(context: SensorEvaluationContext):
    cursor = int(context.cursor) if context.cursor else None
    try:
        records, new_cursor = _new_records(context.instance, cursor)
    except Exception as exc:  # noqa: BLE001
        logger.exception("asset_alert_sensor could not read the event log: %s", type(exc).__name__)
        return SkipReason("event log not readable")
    if new_cursor is not None and new_cursor != cursor:
        context.update_cursor(str(new_cursor))
    config = _config_or_notice()
    if config is None:
        return SkipReason("alerts are off (ALERT_SMTP_HOST / ALERT_EMAIL_TO not set)")
    sent = 0
    for record in records:
        try:
            event_type = record.event_log_entry.dagster_event.event_type
            if event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
                alert = _check_alert(record, config)
            else:
                alert = _freshness_alert(record, config)
            if alert is not None:
                send_alert(config, *alert)
                sent += 1
        except Exception as exc:  # noqa: BLE001
            logger.exception("asset_alert_sensor could not alert on record %s: %s", record.storage_id, exc)
    if not sent:
        return SkipReason(f"no failing ERROR checks or stale assets in {len(records)} new record(s)")
    return None


def make_alert_sensors() -> Sequence[SensorDefinition]:
    """The sensors to add to ``Definitions(sensors=[...])``."""
    return [failure_alert_sensor, asset_alert_sensor]


def _reset_alerts_off_notice() -> None:
    """Tests only: forget that the 'alerts are off' notice was logged."""
    global _alerts_off_logged
    _alerts_off_logged = False
