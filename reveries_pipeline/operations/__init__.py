"""Operations: alerting sensors (e-mail / Slack) for runs, asset checks and freshness."""

from reveries_pipeline.operations.alerts import (
    AlertConfig,
    asset_alert_sensor,
    failure_alert_sensor,
    make_alert_sensors,
    send_alert,
)

__all__ = ["AlertConfig", "asset_alert_sensor", "failure_alert_sensor", "make_alert_sensors", "send_alert"]
