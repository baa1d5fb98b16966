"""The `reveries` command line."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from reveries_pipeline.cli import main

SUBCOMMANDS = [
    [],
    ["totesys"],
    ["totesys", "seed"],
    ["totesys", "simulate"],
    ["run"],
    ["demo"],
    ["rebuild"],
    ["dev"],
    ["dashboard"],
    ["embedded"],
    ["quarantine"],
]


@pytest.mark.parametrize("args", SUBCOMMANDS, ids=lambda a: " ".join(a) or "reveries")
def test_every_command_explains_itself(args):
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 4


def test_bad_input_is_a_clear_error():
    result = CliRunner().invoke(main, ["totesys", "seed", "--scale", "0"])
    assert result.exit_code == 2 and "--scale" in result.output
    result = CliRunner().invoke(main, ["run", "--job", "nope"])
    assert result.exit_code == 2 and "nope" in result.output


def test_quarantine_names_what_it_accepts(tmp_path, monkeypatch):
    monkeypatch.setenv("INGESTION_BUCKET_URL", str(tmp_path / "ingestion"))
    monkeypatch.setenv("PROCESSED_BUCKET_URL", str(tmp_path / "processed"))
    result = CliRunner().invoke(main, ["quarantine", "--bucket", "elsewhere", "some/key.parquet"])
    assert result.exit_code == 2 and "'ingestion', 'processed'" in result.output
    result = CliRunner().invoke(main, ["quarantine", "--bucket", "ingestion", "address/nope.parquet"])
    assert result.exit_code == 1 and "no object 'address/nope.parquet'" in result.output
    result = CliRunner().invoke(main, ["quarantine", "--bucket", "processed"])
    assert result.exit_code == 2 and "KEY" in result.output


def test_seed_then_simulate_through_the_cli(totesys_dsn, monkeypatch):
    monkeypatch.setenv("TOTESYS_DSN", totesys_dsn)
    seeded = CliRunner().invoke(main, ["totesys", "seed", "--scale", "0.05", "--seed", "3"])
    assert seeded.exit_code == 0, seeded.output
    with psycopg.connect(totesys_dsn) as conn:
        orders = conn.execute("SELECT count(*) FROM sales_order").fetchone()[0]
    assert orders > 0
    simulated = CliRunner().invoke(main, ["totesys", "simulate", "--interval", "0", "--iterations", "2", "--seed", "1"])
    assert simulated.exit_code == 0, simulated.output
    with psycopg.connect(totesys_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM sales_order").fetchone()[0] > orders


def test_run_executes_etl_and_prints_the_warehouse_summary(
    seeded_source, warehouse_dsn, ingestion_store, processed_store, monkeypatch
):
    monkeypatch.setenv("TOTESYS_DSN", seeded_source)
    monkeypatch.setenv("WAREHOUSE_DSN", warehouse_dsn)
    monkeypatch.setenv("INGESTION_BUCKET_URL", ingestion_store.url)
    monkeypatch.setenv("PROCESSED_BUCKET_URL", processed_store.url)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    import importlib

    import reveries_pipeline.definitions as definitions

    importlib.reload(definitions)  # resources are chosen from the environment at load time
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM fact_sales_order").fetchone()[0] > 0


def test_demo_twice_starts_over_on_the_embedded_default(tmp_path, monkeypatch):
    for var in ("TOTESYS_DSN", "WAREHOUSE_DSN", "INGESTION_BUCKET_URL", "PROCESSED_BUCKET_URL", "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REVERIES_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("DAGSTER_PG_URL", "")  # in-memory instance storage for this test
    (tmp_path / "dagster_home").mkdir()
    import importlib

    import reveries_pipeline.definitions as definitions

    importlib.reload(definitions)
    from reveries_pipeline.embedded import embedded_dsn

    for scale in ("0.05", "0.1"):  # the second demo replaces the first one's data entirely
        result = CliRunner().invoke(main, ["demo", "--scale", scale])
        assert result.exit_code == 0, result.output
    with psycopg.connect(embedded_dsn("totesys")) as src, psycopg.connect(embedded_dsn("warehouse")) as wh:
        orders = src.execute("SELECT count(*) FROM sales_order").fetchone()[0]
        assert wh.execute("SELECT count(*), count(DISTINCT sales_order_id) FROM fact_sales_order").fetchone() == (
            orders,
            orders,
        )
