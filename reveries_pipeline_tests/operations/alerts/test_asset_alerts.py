"""asset_alert_sensor: a failed ERROR check or a freshness FAIL becomes one e-mail (once per event), and
check metadata drawn from source values arrives bounded and inert."""

from __future__ import annotations

import json
import logging
import time

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    DagsterEventType,
    EventRecordsFilter,
    MetadataValue,
    asset,
    asset_check,
    build_sensor_context,
    deserialize_value,
    instance_for_test,
    materialize,
)

from reveries_pipeline.operations.alerts import (
    asset_alert_sensor,
)
from reveries_pipeline_tests.operations.alerts.mailbox import assert_no_password, wait_for_mail


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
        messages = wait_for_mail(alert_env, 1)
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
    assert_no_password(caplog, alert_env)


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
    messages = wait_for_mail(alert_env, 1)
    assert len(messages) == 1
    assert "warehouse/fact_sales_order" in messages[0]["Subject"]
    assert "WARN -> FAIL" in messages[0].get_content()


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
    (msg,) = wait_for_mail(alert_env, 1)
    body = msg.get_content()
    assert "currency_rows_hostile" in msg["Subject"] and "codes: | a | b |" in body
    assert len(body) < 10_000
    assert "\x1b" not in body
    assert not [line for line in body.splitlines() if line.startswith("|---")]  # no Markdown table from a value
