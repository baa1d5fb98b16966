"""Secrets kept out of every text that leaves the process: logs, metadata, alerts, the UI.

The secrets are the passwords of the configured DSNs (TOTESYS_DSN, WAREHOUSE_DSN, DAGSTER_PG_URL, and
any DSN a PostgresResource was handed directly) plus ALERT_SMTP_PASSWORD and SLACK_BOT_TOKEN. libpq
echoes pieces of a malformed DSN in its errors, so a password is hunted in raw, percent-decoded and
percent-encoded form, and so are its fragments between the characters a parser splits at.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import traceback
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import parse_qs, quote, unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict

DSN_VARIABLES = ("TOTESYS_DSN", "WAREHOUSE_DSN", "DAGSTER_PG_URL")
SECRET_VARIABLES = ("ALERT_SMTP_PASSWORD", "SLACK_BOT_TOKEN")
REDACTED = "***"

# Shorter strings are not hunted: replacing every "pw" in a text would leave it unreadable.
MIN_SECRET_CHARS = 4
# Where a parser cuts a malformed URI, so the pieces of a password an error may quote.
_FRAGMENT_SEPARATORS = re.compile(r"[@%\s/:?#'\"\\]+")
_KEY_VALUE_PASSWORD = re.compile(r"""password\s*=\s*('(?:[^'\\]|\\.)*'?|\S+)""")

_remembered: set[str] = set()  # passwords of DSNs handed to this process other than through the environment
_remembered_lock = threading.Lock()


class ScrubbedError(Exception):
    """Stands in for an exception whose text held a secret: its message scrubbed, nothing chained."""


def dsn_passwords(dsn: str) -> set[str]:
    """Every string a parser could take for the DSN's password, malformed DSNs included."""
    dsn = dsn.strip()
    if "://" not in dsn:
        try:
            found = conninfo_to_dict(dsn).get("password")
        except psycopg.ProgrammingError:  # malformed: the pattern below still finds it
            found = None
        quoted = [m.strip("'") for m in _KEY_VALUE_PASSWORD.findall(dsn)]
        return {p for p in [found, *quoted] if p}
    rest = dsn.split("://", 1)[1]
    before_query, _, query = rest.partition("?")
    passwords = set(parse_qs(query).get("password", []))
    if "@" in before_query:
        # libpq cuts the user info at the first '@', urllib at the last: take both readings
        for userinfo in (before_query.split("@", 1)[0], before_query.rsplit("@", 1)[0]):
            user, colon, password = userinfo.partition(":")
            if colon and password:
                passwords.add(password)
    return passwords


def secret_forms(secret: str, fragments: bool = False) -> set[str]:
    """The secret raw, percent-decoded and percent-encoded, and (for DSN passwords) its pieces."""
    forms = {secret, unquote(secret), quote(secret, safe=""), quote(unquote(secret), safe="")}
    if fragments:
        forms |= _pieces(secret) | _pieces(unquote(secret))
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


def _pieces(secret: str) -> set[str]:
    """Every run of the secret from a cut to a cut: a parser that stops at an '@', a '%' or a space
    quotes one of these (libpq: `invalid percent-encoded token: "<the rest>"`)."""
    cuts = [m.span() for m in _FRAGMENT_SEPARATORS.finditer(secret)]
    starts = [0, *(end for _, end in cuts)]
    ends = [*(start for start, _ in cuts), len(secret)]
    return {secret[start:end] for start in starts for end in ends if end > start}


def dsn_secret_forms(dsn: str) -> set[str]:
    return {form for password in dsn_passwords(dsn) for form in secret_forms(password, fragments=True)}


def remember_dsn(dsn: str) -> None:
    """Hunt this DSN's password too (a DSN given to a resource directly, not through a variable)."""
    forms = dsn_secret_forms(dsn)
    with _remembered_lock:
        _remembered.update(forms)


def known_secrets(environ: Mapping[str, str] | None = None, extra: Iterable[str | None] = ()) -> set[str]:
    env = os.environ if environ is None else environ
    found = set(_remembered)
    for name in DSN_VARIABLES:
        found |= dsn_secret_forms(env.get(name) or "")
    for secret in [*(env.get(name) for name in SECRET_VARIABLES), *extra]:
        found |= secret_forms(secret) if secret else set()
    return found


def scrub(text: str, *, extra: Iterable[str | None] = (), environ: Mapping[str, str] | None = None) -> str:
    """`text` with every known secret (and `extra` ones) replaced by ***, longest form first. Case is
    ignored: a URL parser lowercases what it takes for a host name."""
    pattern = _pattern(frozenset(known_secrets(environ, extra)))
    return pattern.sub(REDACTED, text) if pattern else text


@lru_cache(maxsize=16)
def _pattern(secrets: frozenset[str]) -> re.Pattern | None:
    if not secrets:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)), re.IGNORECASE)


def scrubbed_exception(exc: BaseException | None) -> BaseException | None:
    """`exc` itself when no text of it or of its chain holds a secret; else a ScrubbedError that keeps
    its type name, scrubbed message and traceback but chains nothing (Dagster would show the chain)."""
    if exc is None:
        return None
    full = "".join(traceback.format_exception(exc))
    if scrub(full) == full:
        return exc
    stand_in = ScrubbedError(scrub(f"{type(exc).__name__}: {exc}"))
    return stand_in.with_traceback(exc.__traceback__)


class ScrubbingFilter(logging.Filter):
    """Scrubs the records of a third-party logger that may quote a connection error (psycopg.pool)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


def install_log_scrubbing(logger_names: Iterable[str] = ("psycopg", "psycopg.pool")) -> None:
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubbingFilter) for f in logger.filters):
            logger.addFilter(ScrubbingFilter())
