"""Alert channels: one e-mail over SMTP, plus a Slack post when configured. Neither ever raises."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from reveries_pipeline.operations.alerts.config import AlertConfig

logger = logging.getLogger(__package__)


def send_alert(config: AlertConfig, subject: str, body: str) -> bool:
    """Send one e-mail (and a Slack post when configured). Returns True when the e-mail went out.

    Never raises: SMTP/Slack errors are logged (with secrets redacted)."""
    sent = _send_email(config, subject, body)
    _post_slack(config, subject, body)
    return sent


def _email(config: AlertConfig, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = config.email_from
    msg["To"] = ", ".join(config.email_to)
    msg.set_content(body)
    return msg


def _connect(config: AlertConfig) -> smtplib.SMTP:
    if config.tls == "ssl":  # TLS from the first byte; starttls upgrades a plain connection later
        return smtplib.SMTP_SSL(
            config.smtp_host,
            config.smtp_port,
            timeout=config.timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout)


def _send_email(config: AlertConfig, subject: str, body: str) -> bool:
    msg = _email(config, subject, body)
    try:
        with _connect(config) as client:
            if config.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                client.login(config.smtp_user, config.password or "")
            client.send_message(msg)
    except Exception as exc:  # noqa: BLE001 - an alert channel must never break a sensor
        logger.error(
            "could not send alert e-mail via %s:%s (%s: %s)",
            config.smtp_host,
            config.smtp_port,
            type(exc).__name__,
            config.redact(str(exc)),
        )
        return False
    logger.info("alert e-mail sent to %s: %s", ", ".join(config.email_to), subject)
    return True


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
        text = f"*{_slack_escaped(subject)}*\n{_slack_escaped(body)}"
        client.chat_postMessage(channel=config.slack_channel, text=text)
    except Exception as exc:  # noqa: BLE001
        logger.error("could not post alert to Slack (%s: %s)", type(exc).__name__, config.redact(str(exc)))


def _slack_escaped(text: str) -> str:
    """Slack's own escaping: values in an alert can't become links or @-mentions (`<!channel>`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
