"""failure_alert_sensor: a failed run becomes one e-mail naming the job, step and error, never a
password (not even one a step error quotes); no settings or a broken server never crash the sensor."""

from __future__ import annotations

import logging

from dagster import (
    build_run_status_sensor_context,
    build_sensor_context,
    instance_for_test,
    job,
    op,
)

from reveries_pipeline.operations.alerts import (
    asset_alert_sensor,
    failure_alert_sensor,
)
from reveries_pipeline_tests.operations.alerts.mailbox import LOGGER, PASSWORD, assert_no_password, wait_for_mail
from reveries_pipeline_tests.support import free_port


@op
def extract_totesys():
    raise ValueError("boom totesys down")


@job
def totesys_failing_job():
    extract_totesys()


def _failed_run_context(instance):
    result = totesys_failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return result, build_run_status_sensor_context(
        sensor_name="failure_alert_sensor",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(),
    )


def test_run_failure_sends_mail(alert_env, caplog):
    caplog.set_level(logging.DEBUG)
    with instance_for_test() as instance:
        result, ctx = _failed_run_context(instance)
        failure_alert_sensor(ctx)
    run_id = result.run_id
    messages = wait_for_mail(alert_env, 1)
    assert len(messages) == 1
    msg = messages[0]
    subject, body = msg["Subject"], msg.get_content()
    assert "totesys_failing_job" in subject
    assert "extract_totesys" in subject
    assert "boom totesys down" in subject
    for text in ("totesys_failing_job", run_id, "extract_totesys", "boom totesys down"):
        assert text in body
    assert f"http://dagster.internal:3000/runs/{run_id}" in body
    assert msg["To"] == "oncall@example.com, data@example.com"
    assert msg["From"] == "reveries@example.com"
    assert_no_password(caplog, alert_env)


def test_no_config_no_crash_single_notice(caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    with instance_for_test() as instance:
        _, ctx = _failed_run_context(instance)
        failure_alert_sensor(ctx)
        failure_alert_sensor(ctx)
        asset_alert_sensor(build_sensor_context(instance=instance, cursor=None))
    notices = [r for r in caplog.records if r.name == LOGGER and "alerts are off" in r.getMessage()]
    assert len(notices) == 1


def test_broken_smtp_is_logged_not_raised(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    monkeypatch.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ALERT_SMTP_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("ALERT_SMTP_TLS", "none")
    monkeypatch.setenv("ALERT_SMTP_USER", "alerts")
    monkeypatch.setenv("ALERT_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("ALERT_EMAIL_TO", "oncall@example.com")
    with instance_for_test() as instance:
        _, ctx = _failed_run_context(instance)
        failure_alert_sensor(ctx)  # must not raise
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == LOGGER]
    assert errors and "could not send alert e-mail" in errors[0].getMessage()
    assert_no_password(caplog, type("H", (), {"messages": []})())


DSN_PASSWORD = "p@ss%w0rd s3cr3tz"  # noqa: S105 - as libpq half-parses it: 'invalid percent-encoded token'


@op
def read_totesys():
    raise ValueError('invalid percent-encoded token: "ss%w0rd s3cr3tz@db.example"')


@job
def dsn_echo_job():
    read_totesys()


def test_a_dsn_password_quoted_in_a_step_error_reaches_neither_subject_nor_body(alert_env, monkeypatch):
    monkeypatch.setenv("TOTESYS_DSN", f"postgresql://reveries:{DSN_PASSWORD}@db.example:5432/totesys")
    with instance_for_test() as instance:
        result = dsn_echo_job.execute_in_process(instance=instance, raise_on_error=False)
        failure_alert_sensor(
            build_run_status_sensor_context(
                sensor_name="failure_alert_sensor",
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=result.get_run_failure_event(),
            )
        )
    (msg,) = wait_for_mail(alert_env, 1)
    subject, body = msg["Subject"], msg.get_content()
    assert "read_totesys" in subject and "invalid percent-encoded token" in body
    for piece in ("w0rd", "s3cr3tz", DSN_PASSWORD):
        assert piece not in subject and piece not in body
