"""A DSN whose password has an unencoded `@`, `%` or space: the run fails at resource setup, naming the
variable and what is wrong, and the password (raw, decoded, encoded, or any piece of it) appears nowhere:
not in the process output, the run's events, the failure, nor the alert e-mail built from them."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, unquote

import psycopg
import pytest
from dagster import DagsterInstance, build_run_status_sensor_context, job, materialize, op, serialize_value

from reveries_pipeline.resources.postgres import InvalidDsnError

pytestmark = pytest.mark.hostile

# (variable, DSN template, password): {pw} is replaced by the password as an operator would paste it.
# Every piece of a password is a string found nowhere else, so finding one is a leak.
MALFORMED = {
    "at, percent and space": ("TOTESYS_DSN", "postgresql://reveries:{pw}@127.0.0.1:1/totesys", "p@ss%w0rd s3cr3tz"),
    "lone percent": ("TOTESYS_DSN", "postgresql://reveries:{pw}@127.0.0.1:1/totesys", "hunt3r%zz2s3cr3t"),
    "two at signs": ("TOTESYS_DSN", "postgresql://reveries:{pw}@127.0.0.1:1/totesys", "f1rst@s3cond@th1rd"),
    "space": ("TOTESYS_DSN", "postgresql://reveries:{pw}@127.0.0.1:1/totesys", "0pen s3same"),
    "key=value, unquoted": ("TOTESYS_DSN", "host=127.0.0.1 port=1 dbname=totesys password={pw}", "alph4 b3ta@g4mma"),
    "warehouse": ("WAREHOUSE_DSN", "postgresql://loader:{pw}@127.0.0.1:1/warehouse", "0pen@s3same%d00r"),
}
# what the error must say is wrong, per case
PROBLEM = {
    "at, percent and space": "whitespace",
    "lone percent": "'%' is not followed by two hex digits",
    "two at signs": "unencoded '@'",
    "space": "whitespace",
    "key=value, unquoted": "libpq cannot parse it",
    "warehouse": "unencoded '@'",
}


def forbidden(password: str) -> set[str]:
    """The password raw, decoded and encoded, and every piece of it of 4+ characters a parser could cut."""
    forms = {password, unquote(password), quote(password, safe="")}
    forms |= {piece for piece in re.split(r"[@%\s]+", password) if len(piece) >= 4}
    return forms


def _leaks(haystacks: dict[str, str], password: str) -> dict[str, list[str]]:
    return {where: sorted(form for form in forbidden(password) if form in text) for where, text in haystacks.items()}


def _assets_for(variable: str):
    from reveries_pipeline.ingestion.assets import raw_totesys_tables
    from reveries_pipeline.warehouse.assets import warehouse_tables

    return [raw_totesys_tables] if variable == "TOTESYS_DSN" else [warehouse_tables]


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_dsn_fails_at_setup_and_never_shows_its_password(case, tmp_path, monkeypatch, caplog, capfd):
    from reveries_pipeline.environment import build_resources
    from reveries_pipeline.operations.alerts.config import AlertConfig
    from reveries_pipeline.operations.alerts.messages import build_failure_message

    variable, template, password = MALFORMED[case]
    env = {
        variable: template.format(pw=password),
        "INGESTION_BUCKET_URL": str(tmp_path / "ingestion"),
        "PROCESSED_BUCKET_URL": str(tmp_path / "processed"),
        "REVERIES_HOME": str(tmp_path / "home"),  # never the developer's embedded default
    }
    for name in ("TOTESYS_DSN", "WAREHOUSE_DSN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    instance = DagsterInstance.ephemeral()

    result = materialize(_assets_for(variable), resources=build_resources(env), instance=instance, raise_on_error=False)

    assert not result.success
    failure = result.get_run_failure_event()
    error = failure.job_failure_data.error.to_string()
    assert f"{variable} is not a valid PostgreSQL DSN" in error and PROBLEM[case] in error, error
    context = build_run_status_sensor_context(
        sensor_name="failure_alert_sensor",
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=failure,
    ).for_run_failure()
    subject, body = build_failure_message(context, AlertConfig(smtp_host="smtp.invalid", email_to=("oncall@x",)))
    assert f"{variable} is not a valid PostgreSQL DSN" in body

    out, err = capfd.readouterr()
    haystacks = {
        "stdout": out,
        "stderr": err,
        "python logs": caplog.text,
        "run failure": error,
        "event log": "\n".join(serialize_value(entry) for entry in instance.all_logs(result.run_id)),
        "alert subject": subject,
        "alert body": body,
    }
    assert _leaks(haystacks, password) == {where: [] for where in haystacks}


def test_a_libpq_error_quoting_the_password_is_scrubbed_from_the_step_failure(monkeypatch):
    """Defence in depth behind setup's check: a psycopg error that quotes a piece of the password (as
    libpq's parser does) is scrubbed from the raw step's failure, its metadata and the chained error."""
    from reveries_pipeline.ingestion.failures import classify_failure, first_error, step_failure

    password = "p@ss%w0rd s3cr3tz"
    dsn = f"postgresql://reveries:{password}@127.0.0.1:1/totesys"
    monkeypatch.setenv("TOTESYS_DSN", dsn)
    with pytest.raises(psycopg.Error) as raised:
        psycopg.connect(dsn)
    assert "w0rd s3cr3tz" in str(raised.value)  # libpq quotes the password's tail

    @op
    def capture_tables():
        failures = [classify_failure("sales_order", "postgresql://reveries@127.0.0.1:1/totesys", raised.value)]
        raise step_failure(failures, ["sales_order", "staff"]) from first_error(failures)  # as ingestion does

    @job
    def capture_job():
        capture_tables()

    instance = DagsterInstance.ephemeral()
    result = capture_job.execute_in_process(instance=instance, raise_on_error=False)

    (failure,) = result.get_step_failure_events()
    data = failure.step_failure_data
    assert "raw/sales_order" in data.user_failure_data.description
    haystacks = {
        "description": data.user_failure_data.description,
        "metadata": repr(data.user_failure_data.metadata),
        "error and its chain": data.error.to_string(),
        "event log": "\n".join(serialize_value(entry) for entry in instance.all_logs(result.run_id)),
    }
    assert _leaks(haystacks, password) == {where: [] for where in haystacks}


@pytest.mark.parametrize(
    ("variable", "command"),
    [
        ("TOTESYS_DSN", ["totesys", "simulate", "--iterations", "1"]),
        ("TOTESYS_DSN", ["totesys", "seed", "--yes"]),
        ("DASHBOARD_DSN", ["dashboard"]),
        ("DAGSTER_PG_URL", ["run", "--persist"]),
    ],
)
def test_the_cli_names_a_malformed_dsn_in_one_line_without_its_password(variable, command, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from reveries_pipeline.cli import main

    monkeypatch.setenv("REVERIES_HOME", str(tmp_path))  # never the developer's embedded default
    monkeypatch.setenv(variable, "postgresql://reveries:s3cr3t p@ss@127.0.0.1:5432/db")
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1 and not isinstance(result.exception, InvalidDsnError), result.output
    assert result.output.startswith(f"Error: {variable} is not a valid PostgreSQL DSN:"), result.output
    assert "s3cr3t" not in result.output and "p@ss" not in result.output and "Traceback" not in result.output
