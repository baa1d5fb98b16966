"""`reveries totesys`: seed the source database, keep it changing, set up logical change capture."""

from __future__ import annotations

import time

import click

from reveries_pipeline.cli.confirm import source_name, totesys_dsn_confirmed
from reveries_pipeline.cli.output import console, print_row_counts, progress_bars
from reveries_pipeline.endpoints import resolve_endpoints


@click.group()
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
    dsn = totesys_dsn_confirmed(resolve_endpoints(), "seed", effect, yes)
    started = time.perf_counter()
    with progress_bars() as report:
        counts = seed_totesys(dsn, scale=scale, seed=seed_value, progress=report)
    print_row_counts("table", counts, f"totesys seeded at scale {scale:g} in {time.perf_counter() - started:.1f}s")


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
            resolve_endpoints().totesys.conninfo(),
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

    endpoints = resolve_endpoints()
    with psycopg.connect(endpoints.totesys.conninfo(), autocommit=True) as conn:
        state = ensure_publication_and_slot(conn)
    console.print(f"logical capture set up on {source_name(endpoints)}: slot at LSN {state.confirmed_flush_lsn}")


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

    endpoints = resolve_endpoints()
    effect = "its replication slot and publication are dropped; capturing again needs a new initial snapshot"
    dsn = totesys_dsn_confirmed(endpoints, "drop logical capture on", effect, yes)
    with psycopg.connect(dsn, autocommit=True) as conn:
        drop_publication_and_slot(conn)
    console.print(f"logical capture removed from {source_name(endpoints)}: slot and publication dropped")
