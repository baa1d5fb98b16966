"""PostgresResource: DSNs are checked when the resource is set up, and no error it raises (or chains)
quotes the password."""

from __future__ import annotations

import traceback
from urllib.parse import quote

import psycopg
import pytest
from dagster import build_init_resource_context

from reveries_pipeline.resources import PostgresResource, redact_dsn
from reveries_pipeline.resources.postgres import DatabaseConnectionError, InvalidDsnError, check_dsn

PASSWORD = "Zq8@vX%k2 Lm9#"  # noqa: S105 - every character a URI must encode, and pieces of 4+ characters
PIECES = ("Zq8@vX%k2 Lm9#", "vX%k2", "k2 Lm9", "Lm9#")

# DSN -> what the error must say is wrong
MALFORMED = {
    f"postgresql://reveries:{PASSWORD}@db.example:5432/totesys": "whitespace",
    "postgresql://reveries:Zq8vX%k2Lm9@db.example:5432/totesys": "'%' is not followed by two hex digits",
    "postgresql://reveries:Zq8@vXk2Lm9@db.example:5432/totesys": "unencoded '@'",
    "postgresql://reveries:Zq8/vXk2Lm9@db.example:5432/totesys": "unencoded '/'",
    "postgresql://reveries:Zq8vXk2Lm9@db.example:54x2/totesys": "port is not a number",
    "postgresql://reveries:Zq8vXk2Lm9@db.example:70000/totesys": "port is not a number",
    "mysql://reveries:Zq8vXk2Lm9@db.example:3306/totesys": "unknown URI scheme 'mysql'",
    "postgresql://reveries:Zq8vXk2Lm9@db.example/totesys?sslmod=require": "libpq cannot parse it",
    "host=db.example dbname=totesys password=Zq8vX k2Lm9": "libpq cannot parse it",
    "host=db.example dbname=totesys password='Zq8vX k2Lm9": "libpq cannot parse it",
}
VALID = [
    f"postgresql://reveries:{quote(PASSWORD, safe='')}@db.example:5432/totesys",
    f"postgres://reveries:{quote(PASSWORD, safe='')}@db1:5432,db2:5433/totesys?sslmode=require",
    "postgresql://reveries@/totesys?host=/var/run/postgresql",
    "host=db.example port=5432 dbname=totesys password='Zq8@vX%k2 Lm9#'",
    "  postgresql://reveries@db.example/totesys\n",  # a trailing newline from a .env file
]


def _secret_pieces(dsn: str) -> list[str]:
    return [p for p in (*PIECES, "Zq8vX%k2Lm9", "Zq8vXk2Lm9", "vXk2Lm9", "k2Lm9", "Zq8vX") if p in dsn]


def _full_text(exc: BaseException) -> str:
    """The exception as Dagster would show it: message, traceback and every chained exception."""
    return "".join(traceback.format_exception(exc))


@pytest.mark.parametrize("dsn", MALFORMED)
def test_a_malformed_dsn_fails_setup_naming_the_variable_and_the_problem_not_the_password(dsn):
    resource = PostgresResource(dsn=dsn, dsn_variable="TOTESYS_DSN")

    with pytest.raises(InvalidDsnError) as raised:
        resource.setup_for_execution(build_init_resource_context())

    message = str(raised.value)
    assert message.startswith("TOTESYS_DSN is not a valid PostgreSQL DSN: ") and MALFORMED[dsn] in message
    assert raised.value.__cause__ is None and raised.value.__context__ is None
    assert [p for p in _secret_pieces(dsn) if p in _full_text(raised.value)] == []


def test_an_encoding_problem_prints_a_command_that_encodes_the_password():
    with pytest.raises(InvalidDsnError, match=r"percent-encode the password with: python3 -c '.*getpass") as raised:
        check_dsn(f"postgresql://reveries:{PASSWORD}@db.example/totesys", "WAREHOUSE_DSN")
    assert str(raised.value).startswith("WAREHOUSE_DSN ")


@pytest.mark.parametrize("dsn", VALID)
def test_valid_dsns_pass_the_check(dsn):
    assert check_dsn(dsn, "TOTESYS_DSN") == dsn.strip()
    PostgresResource(dsn=dsn).setup_for_execution(build_init_resource_context())


@pytest.mark.parametrize("dsn", MALFORMED)
def test_connecting_outside_dagster_checks_the_dsn_too(dsn):
    with pytest.raises(InvalidDsnError) as raised:
        with PostgresResource(dsn=dsn).raw_connection():
            pass
    assert [p for p in _secret_pieces(dsn) if p in _full_text(raised.value)] == []


@pytest.mark.parametrize("dsn", [*MALFORMED, *VALID])
def test_redacted_dsn_never_shows_the_password(dsn):
    assert [p for p in _secret_pieces(dsn) if p in redact_dsn(dsn)] == []


def test_a_failed_connection_is_scrubbed_transient_and_chains_nothing(pg_server):
    dsn = pg_server.get_uri("no_such_database").replace("postgres:@", f"postgres:{quote(PASSWORD, safe='')}@")
    resource = PostgresResource(dsn=dsn, connect_timeout_s=2)

    for connect in (resource.raw_connection, resource.connection):
        with pytest.raises(DatabaseConnectionError) as raised:
            with connect():
                pass
        assert isinstance(raised.value, psycopg.OperationalError)  # still retried as transient
        assert 'database "no_such_database" does not exist' in str(raised.value)
        assert raised.value.__cause__ is None and raised.value.__context__ is None
        text = _full_text(raised.value)
        assert PASSWORD not in text and quote(PASSWORD, safe="") not in text


@pytest.mark.parametrize(
    ("field", "value"), [("pool_max_size", 0), ("connect_timeout_s", 0), ("connect_timeout_s", -5)]
)
def test_pool_settings_out_of_range_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        PostgresResource(dsn="postgresql://u@localhost/db", **{field: value})
