"""Alert configuration: read from the environment, with the secrets it holds kept out of logs."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from reveries_pipeline.resources.secrets import scrub

# One logger for the whole alerts package: operators filter on the name it had as a single module.
logger = logging.getLogger(__package__)

DEFAULT_WEBSERVER_URL = "http://localhost:3000"
DEFAULT_EMAIL_FROM = "reveries-alerts@localhost"
TLS_MODES = ("ssl", "starttls", "none")
DEFAULT_SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}

_alerts_off_logged = False


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go. ``password`` is excluded from ``repr`` so it cannot leak into logs."""

    smtp_host: str
    email_to: tuple[str, ...]
    smtp_port: int = 587
    smtp_user: str | None = None
    password: str | None = field(default=None, repr=False)
    email_from: str = DEFAULT_EMAIL_FROM
    tls: str = "starttls"
    webserver_url: str = DEFAULT_WEBSERVER_URL
    slack_token: str | None = field(default=None, repr=False)
    slack_channel: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AlertConfig | None:
        """The configuration, or None when ALERT_SMTP_HOST or ALERT_EMAIL_TO is missing."""
        env = os.environ if environ is None else environ
        host = _stripped(env, "ALERT_SMTP_HOST")
        to = tuple(a.strip() for a in _stripped(env, "ALERT_EMAIL_TO").split(",") if a.strip())
        if not host or not to:
            return None
        tls = _tls_mode(env)
        return cls(
            smtp_host=host,
            email_to=to,
            smtp_port=_smtp_port(env, tls),
            smtp_user=_stripped(env, "ALERT_SMTP_USER") or None,
            password=env.get("ALERT_SMTP_PASSWORD") or None,
            email_from=_stripped(env, "ALERT_EMAIL_FROM") or DEFAULT_EMAIL_FROM,
            tls=tls,
            webserver_url=(env.get("DAGSTER_WEBSERVER_URL") or DEFAULT_WEBSERVER_URL).rstrip("/"),
            slack_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_channel=_stripped(env, "ALERT_SLACK_CHANNEL") or None,
        )

    def run_url(self, run_id: str) -> str:
        return f"{self.webserver_url}/runs/{run_id}"

    def redact(self, text: str) -> str:
        """``text`` with the SMTP password, the Slack token and the configured DSNs' passwords (in every
        form libpq may quote them) replaced by ***."""
        return scrub(text, extra=(self.password, self.slack_token))


def _stripped(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def _tls_mode(env: Mapping[str, str]) -> str:
    # A typo must not switch alerts off: warn and fall back to the default mode.
    tls = (env.get("ALERT_SMTP_TLS") or "starttls").strip().lower()
    if tls in TLS_MODES:
        return tls
    logger.warning("ALERT_SMTP_TLS=%r is not one of %s; using starttls", tls, TLS_MODES)
    return "starttls"


def _smtp_port(env: Mapping[str, str], tls: str) -> int:
    default_port = DEFAULT_SMTP_PORTS[tls]
    port_raw = _stripped(env, "ALERT_SMTP_PORT")
    if not port_raw:
        return default_port
    try:
        return int(port_raw)
    except ValueError:
        logger.warning("ALERT_SMTP_PORT=%r is not a number; using %d", port_raw, default_port)
        return default_port


def config_or_notice() -> AlertConfig | None:
    """The configuration from the environment; when there is none, say so once per process."""
    global _alerts_off_logged
    config = AlertConfig.from_env()
    if config is None and not _alerts_off_logged:
        _alerts_off_logged = True
        logger.warning("alerts are off: set ALERT_SMTP_HOST and ALERT_EMAIL_TO to receive e-mail alerts")
    return config


def _reset_alerts_off_notice() -> None:
    """Tests only: forget that the 'alerts are off' notice was logged."""
    global _alerts_off_logged
    _alerts_off_logged = False
