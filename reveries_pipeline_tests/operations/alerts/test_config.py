"""Alert settings from the environment, and the alert sensors running by default."""

from __future__ import annotations

from reveries_pipeline.operations.alerts import (
    AlertConfig,
    make_alert_sensors,
)
from reveries_pipeline_tests.operations.alerts.mailbox import PASSWORD


def test_config_from_env():
    assert AlertConfig.from_env({}) is None
    assert AlertConfig.from_env({"ALERT_SMTP_HOST": "smtp"}) is None
    cfg = AlertConfig.from_env(
        {
            "ALERT_SMTP_HOST": "smtp",
            "ALERT_EMAIL_TO": "a@x, b@x ,",
            "ALERT_SMTP_TLS": "ssl",
            "ALERT_SMTP_PASSWORD": PASSWORD,
        }
    )
    assert cfg.email_to == ("a@x", "b@x")
    assert cfg.smtp_port == 465 and cfg.tls == "ssl"
    assert cfg.webserver_url == "http://localhost:3000"
    assert PASSWORD not in repr(cfg)


def test_make_alert_sensors_running_by_default():
    sensors = make_alert_sensors()
    assert {s.name for s in sensors} == {"failure_alert_sensor", "asset_alert_sensor"}
    assert all(s.default_status.value == "RUNNING" for s in sensors)
