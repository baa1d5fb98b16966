"""Alert sensors against a real SMTP server on loopback (aiosmtpd) and a real Dagster instance."""

from __future__ import annotations

import ast
import json
import logging
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    DagsterEventType,
    EventRecordsFilter,
    MetadataValue,
    asset,
    asset_check,
    build_run_status_sensor_context,
    build_sensor_context,
    deserialize_value,
    instance_for_test,
    job,
    materialize,
    op,
)

from reveries_pipeline.operations import alerts
from reveries_pipeline.operations.alerts import (
    AlertConfig,
    asset_alert_sensor,
    failure_alert_sensor,
    make_alert_sensors,
    send_alert,
)
from reveries_pipeline.operations.alerts import config as alert_config
from reveries_pipeline_tests.support import free_port

PASSWORD = "s3cr3t-Pa55word-xyz"  # noqa: S105 - test credential
LOGGER = "reveries_pipeline.operations.alerts"
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


class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server():
    handler = _Collector()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
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


def _wait_for(handler, n: int, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while len(handler.messages) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return handler.messages


def _assert_no_password(caplog, handler):
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
    for msg in handler.messages:
        assert PASSWORD not in msg.as_string()


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


def test_run_failure_sends_mail(alert_env, caplog):
    caplog.set_level(logging.DEBUG)
    with instance_for_test() as instance:
        result, ctx = _failed_run_context(instance)
        failure_alert_sensor(ctx)
    run_id = result.run_id
    messages = _wait_for(alert_env, 1)
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
    _assert_no_password(caplog, alert_env)


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
    _assert_no_password(caplog, type("H", (), {"messages": []})())


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


@asset
def tiny_dim_currency():
    return [1, 2, 3]


@asset_check(asset=tiny_dim_currency, description="dim_currency must not be empty")
def currency_rows_error(tiny_dim_currency):
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.ERROR,
        description="0 rows with a currency code",
        metadata={"bad_rows": 3},
    )


@asset_check(asset=tiny_dim_currency)
def currency_rows_warn(tiny_dim_currency):
    return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN)


@asset_check(asset=tiny_dim_currency)
def currency_rows_ok(tiny_dim_currency):
    return AssetCheckResult(passed=True, severity=AssetCheckSeverity.ERROR)


def test_failed_error_check_sends_mail(alert_env, caplog):
    caplog.set_level(logging.DEBUG)
    with instance_for_test() as instance:
        result = materialize(
            [tiny_dim_currency, currency_rows_error, currency_rows_warn, currency_rows_ok],
            instance=instance,
            raise_on_error=False,
        )
        ctx = build_sensor_context(instance=instance, cursor=None)
        asset_alert_sensor(ctx)
        messages = _wait_for(alert_env, 1)
        assert len(messages) == 1
        msg = messages[0]
        subject, body = msg["Subject"], msg.get_content()
        assert "currency_rows_error" in subject and "tiny_dim_currency" in subject
        assert "0 rows with a currency code" in body
        assert "bad_rows: 3" in body
        assert result.run_id in body
        assert "currency_rows_warn" not in body + subject

        # the cursor advanced: a second tick on the same events sends nothing
        assert ctx.cursor is not None
        asset_alert_sensor(build_sensor_context(instance=instance, cursor=ctx.cursor))
        time.sleep(0.2)
        assert len(alert_env.messages) == 1
    _assert_no_password(caplog, alert_env)


def _freshness_state_change(key: AssetKey, previous_state: str, new_state: str):
    """A FreshnessStateChange as the freshness daemon reports it. Dagster has no public constructor
    for it, so it is built from its serialized form (the one the event log stores) with the public
    ``deserialize_value``."""
    serialized = {
        "__class__": "FreshnessStateChange",
        "key": {"__class__": "AssetKey", "path": list(key.path)},
        "new_state": {"__enum__": f"FreshnessState.{new_state}"},
        "previous_state": {"__enum__": f"FreshnessState.{previous_state}"},
        "state_change_timestamp": time.time(),
    }
    return deserialize_value(json.dumps(serialized))


def test_freshness_fail_sends_mail(alert_env):
    key = AssetKey(["warehouse", "fact_sales_order"])
    with instance_for_test() as instance:
        instance.report_runless_asset_event(_freshness_state_change(key, "PASS", "WARN"))
        instance.report_runless_asset_event(_freshness_state_change(key, "WARN", "FAIL"))
        records = instance.event_log_storage.get_event_records(
            EventRecordsFilter(event_type=DagsterEventType.FRESHNESS_STATE_CHANGE)
        )
        assert len(records) == 2
        asset_alert_sensor(build_sensor_context(instance=instance, cursor=None))
    messages = _wait_for(alert_env, 1)
    assert len(messages) == 1
    assert "warehouse/fact_sales_order" in messages[0]["Subject"]
    assert "WARN -> FAIL" in messages[0].get_content()


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
    (msg,) = _wait_for(alert_env, 1)
    subject, body = msg["Subject"], msg.get_content()
    assert "read_totesys" in subject and "invalid percent-encoded token" in body
    for piece in ("w0rd", "s3cr3tz", DSN_PASSWORD):
        assert piece not in subject and piece not in body


HOSTILE_VALUE = "| a | b |\n|---|---|\n<script>x</script>\x1b[31m" + "A" * 1_000_000


@asset_check(asset=tiny_dim_currency)
def currency_rows_hostile(tiny_dim_currency):
    return AssetCheckResult(
        passed=False,
        severity=AssetCheckSeverity.ERROR,
        description=f"bad codes: {HOSTILE_VALUE}",
        metadata={
            "codes": MetadataValue.text(HOSTILE_VALUE),
            "listed": MetadataValue.text("\n".join([HOSTILE_VALUE[:1000]] * 50)),
        },
    )


def test_check_metadata_from_source_values_is_bounded_in_the_mail(alert_env):
    with instance_for_test() as instance:
        materialize([tiny_dim_currency, currency_rows_hostile], instance=instance, raise_on_error=False)
        asset_alert_sensor(build_sensor_context(instance=instance, cursor=None))
    (msg,) = _wait_for(alert_env, 1)
    body = msg.get_content()
    assert "currency_rows_hostile" in msg["Subject"] and "codes: | a | b |" in body
    assert len(body) < 10_000
    assert "\x1b" not in body
    assert not [line for line in body.splitlines() if line.startswith("|---")]  # no Markdown table from a value


def _private_dagster_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [f"{path.name}:{node.lineno} {name}" for name in names if name.startswith("dagster._")]
    return found


def test_alerts_and_their_tests_import_only_public_dagster():
    package = Path(alerts.__file__).parent
    sources = [*sorted(package.glob("*.py")), Path(__file__)]
    assert len(sources) > 2
    assert [hit for path in sources for hit in _private_dagster_imports(path)] == []
