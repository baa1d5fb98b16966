"""What `reveries` prints: progress bars, row-count tables and the warehouse summary, on stderr so the
SQL that commands print on stdout can be piped to psql."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)

FX_RATES_HINT = (
    "fill the rates with: reveries demo (embedded), or dagster asset materialize "
    "-m reveries_pipeline.definitions --select reference/fx_rates --partition-range FIRST...LAST"
)


@contextmanager
def progress_bars() -> Iterator[Callable[[str, int, int], None]]:
    """A `report(name, done, total)` callback drawing one bar per name while the block runs."""
    with Progress(
        TextColumn("{task.description:<15}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        tasks: dict[str, int] = {}

        def report(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name, total=total)
            progress.update(tasks[name], completed=done, total=total)

        yield report


def print_row_counts(first_column: str, counts: Mapping[str, int], title: str) -> None:
    table = Table(first_column, "rows", title=title)
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)


def print_warehouse_summary(conninfo: str) -> None:
    """The warehouse's row counts and top five designs, read through `conninfo`."""
    import psycopg

    from reveries_pipeline.warehouse.report import row_counts, top_designs

    with psycopg.connect(conninfo) as conn:
        counts = row_counts(conn)
        designs = top_designs(conn)
    print_row_counts("warehouse table", counts, "Warehouse row counts")
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
            f"the GBP values; {FX_RATES_HINT}"
        )
