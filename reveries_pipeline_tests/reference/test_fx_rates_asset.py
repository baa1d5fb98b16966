"""`reference/fx_rates` end to end: ECB files served over HTTP (the fixtures' real formats) or the
bundled history, into the warehouse's rates table, with the pre-aggregates converted in step."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from dagster import DagsterInstance, build_schedule_context, materialize

from reveries_pipeline.reference import ecb
from reveries_pipeline.reference.assets import FxRatesSource, fx_rates
from reveries_pipeline.reference.definitions import fx_rates_schedule
from reveries_pipeline.resources import PostgresResource
from reveries_pipeline.warehouse.fx_rates_store import FxRatesIOManager
from reveries_pipeline_tests.dashboard.warehouse_fixture import seed_warehouse
from reveries_pipeline_tests.reference import ecb_server as ecb_server_module

ecb_server = ecb_server_module.ecb_server
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def _materialize(warehouse_dsn: str, source: FxRatesSource, first: str, last: str):
    return materialize(
        [fx_rates],
        resources={
            "fx_rates_source": source,
            "fx_rates_io_manager": FxRatesIOManager(warehouse=PostgresResource(dsn=warehouse_dsn)),
        },
        tags=dict(zip(RANGE_TAGS, (first, last), strict=True)),
        raise_on_error=False,
        instance=DagsterInstance.ephemeral(),
    )


def _rates(warehouse_dsn: str, *codes: str) -> dict[tuple[str, date], tuple[date, Decimal]]:
    with psycopg.connect(warehouse_dsn) as conn:
        rows = conn.execute(
            "SELECT currency_code, rate_day, rate_date, units_per_eur FROM reveries_fx_rate"
            " WHERE currency_code = ANY(%s)",
            (list(codes),),
        ).fetchall()
    return {(code, day): (rate_date, rate) for code, day, rate_date, rate in rows}


def _output_metadata(result) -> dict:
    # one materialization per day of the range, each with the run's metadata
    materializations = result.asset_materializations_for_node("reference__fx_rates")
    return {k: v.value for k, v in materializations[0].metadata.items()}


def test_a_range_over_christmas_is_filled_from_the_history_file_in_one_run(ecb_server, warehouse_dsn):
    seed_warehouse(warehouse_dsn)  # orders from 2023 and 2024: their converted values follow the rates
    result = _materialize(warehouse_dsn, FxRatesSource(base_url=ecb_server.url), "2023-12-20", "2024-01-05")

    assert result.success
    rates = _rates(warehouse_dsn, "GBP", "USD", "EUR")
    in_range = [key for key in rates if date(2023, 12, 20) <= key[1] <= date(2024, 1, 5)]
    assert len(in_range) == 3 * 17  # every calendar day, each currency
    # Christmas (25, 26 Dec) and the weekend before it carry Friday 22 December's publication
    for day in (23, 24, 25, 26):
        assert rates[("GBP", date(2023, 12, day))] == (date(2023, 12, 22), Decimal("0.8666"))
    assert rates[("GBP", date(2023, 12, 27))][0] == date(2023, 12, 27)
    assert rates[("EUR", date(2024, 1, 1))] == (date(2023, 12, 29), Decimal(1))
    assert ecb_server.requested == [ecb.HISTORY_FILE]  # one download for the whole range
    metadata = _output_metadata(result)
    assert metadata["days"] == "2023-12-20..2024-01-05" and metadata["source"].endswith(ecb.HISTORY_FILE)
    # the fixture warehouse held a few of these rates already, with the same values: not changes
    assert 0 < metadata["rates_changed"] <= metadata["rows"]
    with psycopg.connect(warehouse_dsn) as conn:
        (stored,) = conn.execute(
            "SELECT count(*) FROM reveries_fx_rate WHERE rate_day BETWEEN '2023-12-20' AND '2024-01-05'"
        ).fetchone()
    assert stored == metadata["rows"]
    # the pre-aggregates follow: order 101 (GBP 30.00, created 2024-01-05) in euros at that day's rate
    with psycopg.connect(warehouse_dsn) as conn:
        (in_euros,) = conn.execute(
            "SELECT value_eur FROM reporting_sales_by_day WHERE created_date = '2024-01-05' AND currency_id = 1"
        ).fetchone()
    # (PostgreSQL divides to 16 significant digits, Python's Decimal to 28)
    assert round(in_euros, 12) == round(Decimal("30.00") / rates[("GBP", date(2024, 1, 5))][1], 12)


def test_storing_the_same_rates_again_changes_nothing(ecb_server, warehouse_dsn):
    source = FxRatesSource(base_url=ecb_server.url)
    assert _materialize(warehouse_dsn, source, "2024-03-25", "2024-04-03").success
    again = _materialize(warehouse_dsn, source, "2024-03-25", "2024-04-03")

    assert again.success and _output_metadata(again)["rates_changed"] == 0
    # Easter 2024: Good Friday and Easter Monday are TARGET holidays, carrying Thursday 28 March
    assert _rates(warehouse_dsn, "USD")[("USD", date(2024, 4, 1))][0] == date(2024, 3, 28)


def test_a_server_that_answers_503_is_fetched_again_in_the_same_run(ecb_server, warehouse_dsn):
    ecb_server.fail(ecb.HISTORY_FILE, 503, times=1)  # down once, then back
    source = FxRatesSource(base_url=ecb_server.url, retry_wait_seconds=0.1, retries=3)

    result = _materialize(warehouse_dsn, source, "2024-01-08", "2024-01-10")

    assert result.success
    assert ecb_server.requested == [ecb.HISTORY_FILE, ecb.HISTORY_FILE]
    assert any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)


def test_a_day_the_files_do_not_reach_fails_naming_the_range(ecb_server, warehouse_dsn):
    result = _materialize(warehouse_dsn, FxRatesSource(base_url=ecb_server.url), "2023-01-02", "2023-01-03")

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "2023-01-02" in failure.event_specific_data.error.message


def test_offline_days_past_the_bundled_history_fail_naming_the_variable(warehouse_dsn):
    end = ecb.bundled_history()["rate_date"].max()
    result = _materialize(warehouse_dsn, FxRatesSource(), "2026-12-01", "2026-12-04")

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert str(end) in message and f"FX_RATES_URL={ecb.ECB_BASE_URL}" in message


@pytest.mark.parametrize(
    ("base_url", "tick", "expected"),
    [
        ("", datetime(2024, 3, 30, 0, 30, tzinfo=UTC), "2024-03-29"),  # inside the bundled history
        ("", datetime(2030, 1, 2, 0, 30, tzinfo=UTC), None),  # past it: skipped, naming the variable
        ("https://example.invalid/", datetime(2030, 1, 2, 0, 30, tzinfo=UTC), "2030-01-01"),
    ],
)
def test_the_nightly_schedule_asks_for_the_day_that_ended(base_url, tick, expected):
    context = build_schedule_context(
        scheduled_execution_time=tick, resources={"fx_rates_source": FxRatesSource(base_url=base_url)}
    )
    result = fx_rates_schedule(context)
    if expected is None:
        assert "FX_RATES_URL" in result.skip_message
    else:
        assert result.partition_key == expected and result.run_key == expected
