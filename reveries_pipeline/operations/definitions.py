"""Operations' definitions: the alert sensors (e-mail / Slack) over every job of the code location."""

from dagster import Definitions

from reveries_pipeline.operations.alerts import make_alert_sensors

defs = Definitions(sensors=list(make_alert_sensors()))
