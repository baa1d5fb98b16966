"""Every alert test starts with no alert settings in the environment; `alert_env` points the alerts at
a real SMTP server on loopback (mailbox.py) and yields what it received."""

from __future__ import annotations

import pytest

from reveries_pipeline.operations.alerts import config as alert_config
from reveries_pipeline_tests.operations.alerts.mailbox import PASSWORD, start_smtp_server

ENV_KEYS = (
    "ALERT_SMTP_HOST",
    "ALERT_SMTP_PORT",
    "ALERT_SMTP_USER",
    "ALERT_SMTP_PASSWORD",
    "ALERT_EMAIL_FROM",
    "ALERT_EMAIL_TO",
    "ALERT_SMTP_TLS",
    "DAGSTER_WEBSERVER_URL",
    "SLACK_BOT_TOKEN",
    "ALERT_SLACK_CHANNEL",
)


@pytest.fixture
def smtp_server():
    controller, handler = start_smtp_server()
    try:
        yield controller, handler
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    alert_config._reset_alerts_off_notice()
    yield
    alert_config._reset_alerts_off_notice()


@pytest.fixture
def alert_env(monkeypatch, smtp_server):
    controller, handler = smtp_server
    monkeypatch.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ALERT_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("ALERT_SMTP_TLS", "none")
    monkeypatch.setenv("ALERT_SMTP_USER", "alerts")
    monkeypatch.setenv("ALERT_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("ALERT_EMAIL_FROM", "reveries@example.com")
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.com, data@example.com")
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", "http://dagster.internal:3000/")
    return handler
