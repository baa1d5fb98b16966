"""`reveries resnapshot` and `reveries quarantine`: repair what the lake holds or will capture."""

from __future__ import annotations

import click

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES
from reveries_pipeline.cli.output import console


def bucket_for(name_or_url: str):
    """('ingestion' | 'processed', ObjectStore) for a bucket given by stage name or by its URL."""
    from reveries_pipeline.endpoints import resolve_endpoints
    from reveries_pipeline.environment import lake_store

    endpoints = resolve_endpoints()
    stores = {"ingestion": lake_store(endpoints.ingestion), "processed": lake_store(endpoints.processed)}
    for stage, store in stores.items():
        if name_or_url in (stage, store.url, store.url.rstrip("/")):
            return stage, store
    urls = ", ".join(f"{stage}={store.url}" for stage, store in stores.items())
    raise click.BadParameter(f"{name_or_url!r} is neither 'ingestion', 'processed' nor one of their URLs ({urls})")


@click.command()
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
    _, store = bucket_for("ingestion")
    checkpoints = CheckpointStore(store)
    for table in tables:
        before = checkpoints.load(table).describe()
        checkpoints.reset(table)
        console.print(f"raw/{table}: checkpoint {before} -> none: the next ingestion run re-snapshots it")
    console.print("Next: reveries run --job ingestion_job (or wait for the schedule).")


@click.command()
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

    stage, store = bucket_for(bucket)
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
