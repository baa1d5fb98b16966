"""Source values in check metadata and alert mail: a reject whose value is a 1 MB string of Markdown,
HTML and control characters shows up as bounded, escaped text, and the alert built from it stays small."""

from __future__ import annotations

import re

import polars as pl
import pytest
from dagster import AssetCheckSeverity, DagsterEventType, EventRecordsFilter, TextMetadataValue

from reveries_pipeline.processing import checks

pytestmark = pytest.mark.hostile

# Markdown/HTML that would render (a table, a script, a link), an ANSI escape, a bidi override, a NUL
# and newlines, then a megabyte of padding.
HOSTILE = (
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |\r\n"
    "\x1b[31mred\x1b[0m \u202egnp.exe\x00 "
) + "A" * 1_000_000
REASON = f"agreed_delivery_date: cannot parse '{HOSTILE}' as a date"
TABLE_SEPARATOR = re.compile(r"\s*\|?(\s*:?-+:?\s*\|)+")  # the |---|---| line that makes a table
CONTROL_CHARS = ("\x1b", "\u202e", "\x00", "\r")
MAX_SAMPLES, MAX_VALUE_CHARS = 20, 200  # rows listed, characters shown of one value
# every listed value bounded, plus its prefix (table, id, raw batch key) and the "… and N more" line
METADATA_BOUND = MAX_SAMPLES * (MAX_VALUE_CHARS + 40) + 100
ALERT_BOUND = 8_000


def _raw_text_problems(text: str) -> list[str]:
    """What in `text` shows a source value was passed through raw."""
    problems = [f"control character {c!r}" for c in CONTROL_CHARS if c in text]
    problems += ["a Markdown table" for line in text.splitlines() if TABLE_SEPARATOR.match(line)]
    return problems


def _rejects(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "table": ["sales_order"] * n,
            "source_key": [f"sales_order/batch-{i:04d}.parquet" for i in range(n)],
            "primary_key": list(range(1, n + 1)),
            "reason": [REASON] * n,
            "row": ["{}"] * n,
        },
        schema_overrides={"primary_key": pl.Int32},
    )


def test_reject_reasons_are_bounded_escaped_text():
    result = checks.rejects_check("fact_sales_order", _rejects(MAX_SAMPLES + 5), "_rejects/x.parquet")

    listed = result.metadata["rejected"]
    assert isinstance(listed, TextMetadataValue)  # text: the UI renders no Markdown or HTML from it
    assert len(listed.value) < METADATA_BOUND
    assert _raw_text_problems(listed.value) == []
    lines = listed.value.splitlines()
    assert len(lines) == MAX_SAMPLES + 1 and lines[-1] == "… and 5 more"
    assert "id=1 from sales_order/batch-0000.parquet" in lines[0]  # the row is still named
    marker = re.search(r"… \[(\d+) chars\]$", lines[0])  # cut, saying how long the value was
    assert marker and int(marker.group(1)) > len(REASON)
    assert result.metadata["rejected_rows"].value == MAX_SAMPLES + 5


def test_currency_codes_and_held_keys_are_bounded():
    currency = checks.currency_check([HOSTILE] * 50)
    held = checks.held_check(
        "fact_sales_order",
        pl.DataFrame({"sales_order_id": [1, 2]}),
        {f"sales_staff_id {HOSTILE}{i} (dim_staff)": [1, 2] for i in range(50)},
    )
    for text in (currency.description, currency.metadata["unknown_codes"].value, held.description):
        assert len(text) < METADATA_BOUND
        assert _raw_text_problems(text) == []
    assert "and 30 more" in currency.description
    assert all(len(ref) < 2 * MAX_VALUE_CHARS for ref in held.metadata["held"].value)


def test_hostile_reject_through_the_pipeline_and_its_alert(world):
    """A sales order whose text date is the hostile value, beside an ordinary change: the ordinary one
    loads, the hostile one is rejected and named, and neither the check nor its alert carries it raw."""
    from reveries_pipeline.operations.alerts.config import AlertConfig
    from reveries_pipeline.operations.alerts.messages import asset_check_message
    from reveries_pipeline_tests.pipeline_harness import Pipeline, check_results

    (bad_id, good_id) = [r[0] for r in world.source("SELECT sales_order_id FROM sales_order ORDER BY 1 LIMIT 2")]
    world.source(
        "UPDATE sales_order SET agreed_delivery_date = %s, last_updated = now() WHERE sales_order_id = %s",
        (HOSTILE.replace("\x00", ""), bad_id),  # PostgreSQL text holds no NUL
    )
    world.source("UPDATE sales_order SET units_sold = 4242, last_updated = now() WHERE sales_order_id = %s", (good_id,))
    pipeline = Pipeline(world.totesys_dsn, world.warehouse_dsn, world.ingestion, world.processed)

    result = pipeline.etl(raise_on_error=False)

    check = check_results(result)[("processed/fact_sales_order", "no_rejected_rows")]
    assert not check.passed and check.severity == AssetCheckSeverity.ERROR
    listed = check.metadata["rejected"]
    assert isinstance(listed, TextMetadataValue)
    assert f"id={bad_id}" in listed.value
    assert len(listed.value) < METADATA_BOUND and _raw_text_problems(listed.value) == []
    loaded = pipeline.warehouse("SELECT units_sold FROM fact_sales_order_current WHERE sales_order_id = %s", (good_id,))
    assert loaded == [(4242,)]

    records = pipeline.instance.event_log_storage.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    )
    config = AlertConfig(smtp_host="smtp.invalid", email_to=("oncall@example.com",))
    alerts = [a for a in (asset_check_message(r, config) for r in records) if a is not None]
    rejected = [body for subject, body in alerts if "fact_sales_order:no_rejected_rows" in subject]
    assert len(rejected) == 1
    assert f"id={bad_id}" in rejected[0]
    assert len(rejected[0]) < ALERT_BOUND and _raw_text_problems(rejected[0]) == []
