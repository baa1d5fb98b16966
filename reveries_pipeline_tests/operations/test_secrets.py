"""No secret reaches logs, metadata or run records: run the chain with a DSN that carries a password."""

from __future__ import annotations

import logging

import pytest
from dagster import DagsterInstance, Definitions

PASSWORD = "Sup3r-Secret-Pa55word"  # noqa: S105 - the secret the test hunts for


def with_password(dsn: str) -> str:
    # The embedded server trusts local sockets, so the password is accepted and ignored: the run
    # succeeds while the secret travels through every resource that touches the DSN.
    return dsn.replace("postgresql://postgres:@", f"postgresql://postgres:{PASSWORD}@")


# On S3 buckets only: the secret is the DSN's password, whatever the bucket (and S3 adds its own settings).
@pytest.mark.parametrize("bucket_kind", ["s3"], indirect=True)
def test_password_in_dsn_never_appears_in_logs_or_metadata(
    seeded_source, warehouse_dsn, ingestion_store, processed_store, monkeypatch, caplog, capfd
):
    from reveries_pipeline.environment import build_resources
    from reveries_pipeline.ingestion.assets import raw_totesys_tables
    from reveries_pipeline.jobs import etl_job
    from reveries_pipeline.processing.assets import star_schema_tables
    from reveries_pipeline.warehouse.assets import warehouse_tables

    env = {
        "TOTESYS_DSN": with_password(seeded_source),
        "WAREHOUSE_DSN": with_password(warehouse_dsn),
        "INGESTION_BUCKET_URL": ingestion_store.url,
        "PROCESSED_BUCKET_URL": processed_store.url,
    }
    assert PASSWORD in env["TOTESYS_DSN"]
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    defs = Definitions(
        assets=[raw_totesys_tables, star_schema_tables, warehouse_tables],
        jobs=[etl_job],
        resources=build_resources(env),
    )
    instance = DagsterInstance.ephemeral()
    caplog.set_level(logging.DEBUG)
    result = defs.resolve_job_def("etl_job").execute_in_process(instance=instance)
    assert result.success

    # a failing run too: errors must name the host, never the password
    monkeypatch.setenv("TOTESYS_DSN", f"postgresql://reveries:{PASSWORD}@127.0.0.1:1/totesys?connect_timeout=1")
    failing = Definitions(
        assets=[raw_totesys_tables],
        resources=build_resources(
            env | {"TOTESYS_DSN": f"postgresql://reveries:{PASSWORD}@127.0.0.1:1/totesys?connect_timeout=1"}
        ),
    )
    bad = failing.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, raise_on_error=False, tags={"dagster/max_retries": "0"}, asset_selection=None
    )
    assert not bad.success

    haystacks = [caplog.text, *capfd.readouterr()]
    for run in instance.get_runs():
        haystacks.append(repr(run))
        for entry in instance.all_logs(run.run_id):
            haystacks.append(repr(entry))
    assert any("127.0.0.1:1" in h for h in haystacks)  # the failure was logged, with its host...
    assert not [h for h in haystacks if PASSWORD in h]  # ...and the password nowhere


# ------------------------------------------------------------------ the scrubbing function itself

DSN_PASSWORD = "p@ss%w0rd s3cr3tz"  # noqa: S105 - unencoded '@', '%' and space


def _scrub_env() -> dict[str, str]:
    return {
        "TOTESYS_DSN": f"postgresql://reveries:{DSN_PASSWORD}@db.example:5432/totesys",
        "WAREHOUSE_DSN": "host=wh.example dbname=warehouse password='k3y v4lue@pw'",
        "DAGSTER_PG_URL": "postgresql+psycopg2://dagster:d4gst3r%2Fpw@pg.example/dagster",
        "ALERT_SMTP_PASSWORD": "smtp-s3cr3t",
        "SLACK_BOT_TOKEN": "xoxb-t0k3n",
    }


@pytest.mark.parametrize(
    "leaked",
    [
        DSN_PASSWORD,  # raw
        "p%40ss%25w0rd%20s3cr3tz",  # percent-encoded
        'invalid percent-encoded token: "ss%w0rd s3cr3tz@db.example"',  # what libpq quotes
        "s3cr3tz",
        "k3y v4lue@pw",
        "v4lue@pw",
        "d4gst3r/pw",  # percent-decoded
        "d4gst3r%2Fpw",
        "smtp-s3cr3t",
        "xoxb-t0k3n",
    ],
)
def test_scrub_hides_every_configured_secret_in_every_form(leaked):
    from reveries_pipeline.resources.secrets import scrub

    scrubbed = scrub(f"connecting to db.example failed: {leaked} (db.example:5432)", environ=_scrub_env())

    assert "***" in scrubbed and "db.example" in scrubbed  # the host stays: it is what the operator needs
    for secret in ("p@ss", "w0rd", "s3cr3tz", "v4lue", "d4gst3r", "smtp-s3cr3t", "xoxb-t0k3n"):
        assert secret not in scrubbed


def test_a_dsn_given_to_a_resource_directly_is_scrubbed_once_the_resource_is_set_up():
    from dagster import build_init_resource_context

    from reveries_pipeline.resources import PostgresResource
    from reveries_pipeline.resources.secrets import scrub

    password = "d1r3ct-Pa55"  # noqa: S105
    assert scrub(f"text with {password}", environ={}) == f"text with {password}"
    PostgresResource(dsn=f"postgresql://reveries:{password}@db.example/totesys").setup_for_execution(
        build_init_resource_context()
    )
    assert scrub(f"text with {password}", environ={}) == "text with ***"


def test_an_exception_chain_holding_a_secret_is_replaced_by_one_scrubbed_error(monkeypatch):
    from reveries_pipeline.resources.secrets import ScrubbedError, scrubbed_exception

    monkeypatch.setenv("TOTESYS_DSN", f"postgresql://reveries:{DSN_PASSWORD}@db.example/totesys")
    try:
        try:
            raise ValueError('invalid percent-encoded token: "ss%w0rd s3cr3tz@db.example"')
        except ValueError as inner:
            raise RuntimeError("capture failed") from inner
    except RuntimeError as outer:
        chained = outer

    stand_in = scrubbed_exception(chained)

    assert isinstance(stand_in, ScrubbedError)
    assert stand_in.__cause__ is None and stand_in.__context__ is None
    assert stand_in.__traceback__ is chained.__traceback__  # where it happened is kept
    assert "s3cr3tz" not in str(stand_in) and "RuntimeError: capture failed" in str(stand_in)
    harmless = ValueError("no secret here")
    assert scrubbed_exception(harmless) is harmless


def test_psycopg_pool_log_records_are_scrubbed(monkeypatch, caplog):
    import reveries_pipeline.resources.postgres  # noqa: F401 - installs the filter

    monkeypatch.setenv("TOTESYS_DSN", f"postgresql://reveries:{DSN_PASSWORD}@db.example/totesys")
    caplog.set_level(logging.WARNING, logger="psycopg.pool")
    logging.getLogger("psycopg.pool").warning("error connecting in %r: %s", "pool-1", "token: ss%w0rd s3cr3tz")
    assert "s3cr3tz" not in caplog.text and "pool-1" in caplog.text
