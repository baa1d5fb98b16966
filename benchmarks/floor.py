"""The floor: the same data moved with nothing else. What an etl_job initial load is compared with.

    TOTESYS_DSN=... WAREHOUSE_DSN=<an empty database> .venv/bin/python -m benchmarks.floor --lake DIR --out floor.json

Three phases, one table at a time, no Dagster, no buckets' bookkeeping:
1. export: each of the 11 source tables COPYed out whole by the ingestion's own reader
   (ingestion/source_reader.py: CSV parsed by pyarrow with the source's exact types), then as a polars
   frame into one parquet file per table;
2. model: the 11 files read back and modelled into the star tables in one pass by the processing
   stage's pure `transform` (no earlier state): the same dimension and fact rows the pipeline makes;
3. load: the warehouse DDL applied to an empty database, then each star table COPYed in
   (warehouse/copy_in.copy_rows) in one transaction, with foreign-key triggers off
   (session_replication_role = replica, a superuser setting the embedded server allows): moving rows
   is the floor, checking them is the pipeline's own work.

Left out, as the pipeline's own work: checkpoints, batch keys and object metadata, the load ledger,
the dashboard's derived tables (fact_*_current, pre-aggregates), checks and Dagster's events. Polars
and pyarrow use their own thread pools within a phase.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import polars as pl
import psycopg
import pyarrow as pa
from psycopg import sql

from reveries_pipeline.catalog import SOURCE_TABLE_NAMES, STAR_TABLE_NAMES
from reveries_pipeline.ingestion.source_reader import rows_updated_since
from reveries_pipeline.ingestion.source_schema import describe_source_table
from reveries_pipeline.processing.raw_schemas import SOURCE_KEY, raw_frame
from reveries_pipeline.processing.transforms import transform
from reveries_pipeline.warehouse.copy_in import copy_rows
from reveries_pipeline.warehouse.schema import apply_warehouse_ddl


def export_table(conn: psycopg.Connection, table: str, lake: Path) -> int:
    """COPY every row of `table` out into lake/<table>.parquet; the rows written."""
    with conn.transaction():  # describe_source_table locks the definition until the COPY is done
        source = describe_source_table(conn, table)
        blocks = list(rows_updated_since(conn, source, None))
    frame = pl.from_arrow(pa.concat_tables(blocks) if blocks else source.polled_schema.empty_table())
    frame.write_parquet(lake / f"{table}.parquet")
    return frame.height


def model_tables(lake: Path) -> dict[str, pl.DataFrame]:
    """The star tables modelled from the exported files, as one processing pass over all of them."""
    changes = {
        table: raw_frame(
            table, pl.read_parquet(lake / f"{table}.parquet").with_columns(pl.lit(table).alias(SOURCE_KEY))
        )
        for table in SOURCE_TABLE_NAMES
    }
    result = transform(changes, {})
    if result.rejects.height:  # the generator's rows are all valid: a reject means the floor is wrong
        raise ValueError(f"the floor rejected {result.rejects.height} source rows")
    return result.tables


def load_tables(conn: psycopg.Connection, tables: dict[str, pl.DataFrame]) -> dict[str, int]:
    """The warehouse DDL, then every star table COPYed in, in load order; rows per table."""
    apply_warehouse_ddl(conn)
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")  # no per-row foreign-key triggers
        for name in STAR_TABLE_NAMES:
            copy_rows(conn, sql.Identifier(name), tables[name], tables[name].columns, with_position=False)
    return {name: tables[name].height for name in STAR_TABLE_NAMES}


def run_floor(totesys_dsn: str, warehouse_dsn: str, lake: Path) -> dict:
    """The three phases, timed: {"export_s", "model_s", "load_s", "total_s", "source_rows", "star_rows"}."""
    lake.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with psycopg.connect(totesys_dsn) as conn:
        source_rows = {table: export_table(conn, table, lake) for table in SOURCE_TABLE_NAMES}
    exported = time.perf_counter()
    tables = model_tables(lake)
    modelled = time.perf_counter()
    with psycopg.connect(warehouse_dsn) as conn:
        star_rows = load_tables(conn, tables)
    loaded = time.perf_counter()
    return {
        "export_s": exported - started,
        "model_s": modelled - exported,
        "load_s": loaded - modelled,
        "total_s": loaded - started,
        "source_rows": source_rows,
        "star_rows": star_rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, required=True, help="a folder for the 11 parquet files")
    parser.add_argument("--out", type=Path, required=True, help="JSON file written: the phases' times and rows")
    args = parser.parse_args(argv)
    # DSNs from the environment, as the pipeline takes them: never on a command line `ps` shows
    floor = run_floor(os.environ["TOTESYS_DSN"], os.environ["WAREHOUSE_DSN"], args.lake)
    args.out.write_text(json.dumps(floor))
    return 0


if __name__ == "__main__":
    sys.exit(main())
