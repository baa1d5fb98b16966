"""Sending an alert: a refused login is logged without the password, and Slack without dagster_slack
is skipped without the token."""

from __future__ import annotations

import logging

from reveries_pipeline.operations.alerts import (
    AlertConfig,
    send_alert,
)
from reveries_pipeline_tests.operations.alerts.mailbox import LOGGER, PASSWORD


def test_wrong_password_is_logged_without_password(alert_env, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    config = AlertConfig.from_env()
    bad = AlertConfig(**{**config.__dict__, "password": "wrong-" + PASSWORD})
    assert send_alert(bad, "subject", "body") is False
    assert any("could not send alert e-mail" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert "wrong-" + PASSWORD not in record.getMessage()
    assert alert_env.messages == []


def test_slack_without_dagster_slack_is_skipped(alert_env, monkeypatch, caplog):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "dagster_slack":
            raise ImportError("no dagster_slack")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("ALERT_SLACK_CHANNEL", "#alerts")
    caplog.set_level(logging.INFO, logger=LOGGER)
    assert send_alert(AlertConfig.from_env(), "s", "b") is True
    assert any("Slack alert skipped" in r.getMessage() for r in caplog.records)
    assert all("xoxb-test-token" not in r.getMessage() for r in caplog.records)
