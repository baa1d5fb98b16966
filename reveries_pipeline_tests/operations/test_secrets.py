"""No secret reaches logs, metadata or run records: run the chain with a DSN that carries a password."""

from __future__ import annotations

import logging

from dagster import DagsterInstance, Definitions

PASSWORD = "Sup3r-Secret-Pa55word"  # noqa: S105 - the secret the test hunts for


def with_password(dsn: str) -> str:
    # The embedded server trusts local sockets, so the password is accepted and ignored: the run
    # succeeds while the secret travels through every resource that touches the DSN.
    return dsn.replace("postgresql://postgres:@", f"postgresql://postgres:{PASSWORD}@")


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
