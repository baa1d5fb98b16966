"""The `reveries` command line."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import make_conninfo

from reveries_pipeline.cli import job_runs, main
from reveries_pipeline.resources.postgres import redact_dsn
from reveries_pipeline.warehouse.report import TOP_DESIGNS_SQL
from reveries_pipeline_tests.dashboard.warehouse_fixture import seed_warehouse
from reveries_pipeline_tests.shell import paste
from reveries_pipeline_tests.support import subprocess_env

SUBCOMMANDS = [
    [],
    ["totesys"],
    ["totesys", "seed"],
    ["totesys", "simulate"],
    ["totesys", "setup-cdc"],
    ["totesys", "drop-cdc"],
    ["run"],
    ["demo"],
    ["rebuild"],
    ["resnapshot"],
    ["dev"],
    ["dashboard"],
    ["warehouse"],
    ["warehouse", "dashboard-role"],
    ["embedded"],
    ["env"],
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
    missing = "address/2026/01/01/address-20260101T000000000Z.parquet"
    result = CliRunner().invoke(main, ["quarantine", "--bucket", "ingestion", missing])
    assert result.exit_code == 1 and f"no object {missing!r}" in result.output
    result = CliRunner().invoke(main, ["quarantine", "--bucket", "ingestion", "address/nope.parquet"])
    assert result.exit_code == 1 and "'address/nope.parquet' is not a batch key" in result.output
    result = CliRunner().invoke(main, ["quarantine", "--bucket", "processed"])
    assert result.exit_code == 2 and "KEY" in result.output


def test_seed_then_simulate_through_the_cli(totesys_dsn, monkeypatch):
    monkeypatch.setenv("TOTESYS_DSN", totesys_dsn)
    seeded = CliRunner().invoke(main, ["totesys", "seed", "--scale", "0.05", "--seed", "3", "--yes"])
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
        sales_rows = conn.execute("SELECT count(*) FROM fact_sales_order").fetchone()[0]
        top = conn.execute(TOP_DESIGNS_SQL).fetchall()
    assert sales_rows > 0
    counts, designs = _summary_tables(result.output)
    assert counts["fact_sales_order"] == f"{sales_rows:,}"
    # the seed has sales in its last 12 months: the top-designs table is printed, and not empty
    assert 1 <= len(designs) <= 5, result.output
    assert designs == [
        [name, str(design_id), f"{value:,.2f}", f"{orders:,}"] for name, design_id, value, orders, _ in top
    ]


def _summary_tables(output: str) -> tuple[dict[str, str], list[list[str]]]:
    """The printed summary's two tables: {table: rows} and the top designs' [name, id, value, orders]."""
    cells = [
        [c.strip() for c in line.strip().strip("│").split("│")] for line in output.splitlines() if line.startswith("│")
    ]
    return {row[0]: row[1] for row in cells if len(row) == 2}, [row for row in cells if len(row) == 4]


def test_run_prints_the_summary_worked_out_by_hand(warehouse_dsn, monkeypatch):
    """`reveries run` on the hand-made warehouse of dashboard/warehouse_fixture.py (warehouse/test_report.py
    has the arithmetic); the job itself is stubbed out, it is the test above's subject."""
    seed_warehouse(warehouse_dsn)
    monkeypatch.setenv("WAREHOUSE_DSN", warehouse_dsn)
    monkeypatch.setattr(job_runs, "execute_job", lambda job_name, log_level="INFO": True)
    result = CliRunner().invoke(main, ["run", "--job", "warehouse_job"])
    assert result.exit_code == 0, result.output
    counts, designs = _summary_tables(result.output)
    assert counts == {
        "dim_date": "1,096",  # 2023-01-01..2025-12-31: 365 + 366 + 365 days
        "dim_staff": "3",
        "dim_location": "1",
        "dim_design": "4",
        "dim_currency": "3",
        "dim_counterparty": "3",
        "dim_payment_type": "2",
        "dim_transaction": "12",
        "fact_sales_order": "15",
        "fact_purchase_order": "4",
        "fact_payment": "14",
        "reveries_load_ledger": "3",
    }
    # in GBP, in this order (warehouse/test_report.py has the arithmetic): Bronze 1,302.66; Granite
    # 230.00 (its USD order has no rate: left out, and said below the table); Soft 72.75; Wooden 63.00
    assert designs == [
        ["Bronze", "2", "1,302.66", "3"],
        ["Granite", "4", "230.00", "2"],
        ["Soft", "3", "72.75", "2"],
        ["Wooden", "1", "63.00", "2"],
    ]
    assert "1 of these orders have no FX rate for their created date yet" in result.output


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
        # offline, every order's created date got its FX rate: the dashboard shows converted totals
        (orders_converted, unconverted) = wh.execute(
            "SELECT sum(row_count), sum(unconverted_rows) FROM reporting_sales_by_day"
        ).fetchone()
        assert (orders_converted, unconverted) == (orders, 0)


def test_setup_cdc_prints_the_scripts_and_runs_nothing():
    from reveries_pipeline.ingestion.logical.setup import drop_sql, setup_sql

    setup = CliRunner().invoke(main, ["totesys", "setup-cdc"])
    assert setup.exit_code == 0, setup.output
    assert setup.output.startswith(setup_sql()) and "reveries totesys drop-cdc" in setup.output
    drop = CliRunner().invoke(main, ["totesys", "drop-cdc"])
    assert drop.exit_code == 0 and drop.output == drop_sql()


def _orders_digest(dsn: str) -> tuple:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY sales_order_id)) FROM sales_order t"
        ).fetchone()


def test_seed_of_a_configured_database_needs_yes(seeded_source, monkeypatch, tmp_path):
    monkeypatch.setenv("TOTESYS_DSN", seeded_source)
    monkeypatch.setenv("REVERIES_HOME", str(tmp_path))
    seeded = _orders_digest(seeded_source)

    refused = CliRunner().invoke(main, ["totesys", "seed", "--scale", "0.05", "--seed", "3"])
    assert refused.exit_code == 1 and "refusing to seed" in refused.output and "--yes" in refused.output
    assert redact_dsn(seeded_source) in refused.output
    code, output = paste("reveries totesys seed --scale 0.05 --seed 3", subprocess_env(), typed="n\n")
    assert code == 1 and redact_dsn(seeded_source) in output and "Aborted" in output, output
    assert _orders_digest(seeded_source) == seeded

    replaced = CliRunner().invoke(main, ["totesys", "seed", "--scale", "0.05", "--seed", "3", "--yes"])
    assert replaced.exit_code == 0, replaced.output
    assert _orders_digest(seeded_source) != seeded


def test_rebuild_without_a_terminal_refuses_unless_yes():
    result = CliRunner().invoke(main, ["rebuild"])
    assert result.exit_code == 1 and "refusing to replace the processed bucket" in result.output
    assert "--yes" in result.output


def _cdc_objects(dsn: str) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        (slots,) = conn.execute(
            "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'reveries' AND database = current_database()"
        ).fetchone()
        (publications,) = conn.execute("SELECT count(*) FROM pg_publication WHERE pubname = 'reveries'").fetchone()
    return slots, publications


def test_setup_and_drop_cdc_apply_on_the_source(seeded_source, monkeypatch):
    from reveries_pipeline.ingestion.logical.setup import drop_publication_and_slot

    monkeypatch.setenv("TOTESYS_DSN", seeded_source)
    try:
        for _ in range(2):  # running it again changes nothing
            setup = CliRunner().invoke(main, ["totesys", "setup-cdc", "--apply"])
            assert setup.exit_code == 0, setup.output
            assert _cdc_objects(seeded_source) == (1, 1)
        refused = CliRunner().invoke(main, ["totesys", "drop-cdc", "--apply"])  # a configured database: no yes
        assert refused.exit_code == 1 and "refusing to drop" in refused.output
        assert _cdc_objects(seeded_source) == (1, 1)
        dropped = CliRunner().invoke(main, ["totesys", "drop-cdc", "--apply", "--yes"])
        assert dropped.exit_code == 0, dropped.output
        assert _cdc_objects(seeded_source) == (0, 0)
    finally:  # a slot left behind would stop the test database from being dropped
        with psycopg.connect(seeded_source, autocommit=True) as conn:
            drop_publication_and_slot(conn)


def test_run_offers_the_jobs_of_the_code_location(monkeypatch):
    """--job lists what the code location defines (etl_job first), not a copy of it; rebuild_job has a
    command of its own that asks first, and the daily-partitioned fx_rates_job needs a range."""
    from dagster import Definitions, job, op

    import reveries_pipeline.definitions as definitions

    @op
    def audit() -> None:
        pass

    @job
    def audit_job():
        audit()

    monkeypatch.setattr(definitions, "defs", Definitions.merge(definitions.defs, Definitions(jobs=[audit_job])))
    result = CliRunner().invoke(main, ["run", "--help"])
    assert "--job [etl_job|audit_job|ingestion_job|processing_job|warehouse_job]" in result.output, result.output
    for job_name in ("rebuild_job", "fx_rates_job"):
        refused = CliRunner().invoke(main, ["run", "--job", job_name])
        assert refused.exit_code == 2 and f"'{job_name}' is not one of" in refused.output


def test_a_branch_deployments_summary_reads_the_branch_schema(warehouse_dsn, monkeypatch):
    """The warehouse of a branch deployment lives in its own schema (pr_42): `reveries run` summarises
    that one. The public schema here holds nothing."""
    with psycopg.connect(warehouse_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA pr_42")
    seed_warehouse(make_conninfo(warehouse_dsn, options="-c search_path=pr_42"))
    monkeypatch.setenv("DAGSTER_CLOUD_IS_BRANCH_DEPLOYMENT", "1")
    monkeypatch.setenv("DAGSTER_CLOUD_PULL_REQUEST_ID", "42")
    monkeypatch.setenv("WAREHOUSE_DSN", warehouse_dsn)
    monkeypatch.setattr(job_runs, "execute_job", lambda job_name, log_level="INFO": True)
    monkeypatch.setattr(job_runs, "runnable_job_names", lambda: ["etl_job", "warehouse_job"])
    result = CliRunner().invoke(main, ["run", "--job", "warehouse_job"])
    assert result.exit_code == 0, result.output
    counts, designs = _summary_tables(result.output)
    assert (counts["fact_sales_order"], len(designs)) == ("15", 4)


def test_an_endpoint_the_deployment_lacks_is_one_line_naming_its_variable(monkeypatch):
    monkeypatch.setenv("DAGSTER_CLOUD_DEPLOYMENT_NAME", "prod")
    monkeypatch.delenv("INGESTION_BUCKET_URL", raising=False)
    result = CliRunner().invoke(main, ["resnapshot", "sales_order"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert result.output.strip() == (
        "Error: INGESTION_BUCKET_URL must be set in this deployment (no local bucket outside local)"
    )
