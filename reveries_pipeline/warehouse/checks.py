"""Warehouse asset checks: reconciliation against the source, orphan keys, one current row per id."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue
from psycopg import sql

from reveries_pipeline.processing.schemas import FOREIGN_KEYS
from reveries_pipeline.warehouse.schema import FACT_TABLES, FACT_VERSION_KEY

# warehouse table -> (source table, what to count in the warehouse)
RECONCILED: dict[str, str] = {
    "fact_sales_order": "sales_order",
    "fact_purchase_order": "purchase_order",
    "fact_payment": "payment",
    "dim_staff": "staff",
    "dim_location": "address",
    "dim_design": "design",
    "dim_currency": "currency",
    "dim_counterparty": "counterparty",
    "dim_payment_type": "payment_type",
    "dim_transaction": "transaction",
}


def wkey(table: str) -> AssetKey:
    return AssetKey(["warehouse", table])


def check_specs() -> list[AssetCheckSpec]:
    specs = [
        AssetCheckSpec(
            "reconciles_with_source",
            asset=wkey(t),
            description=f"Distinct natural ids / rows equal the source `{src}` (warns: a live source moves).",
        )
        for t, src in RECONCILED.items()
    ]
    for fact in FACT_TABLES:
        specs.append(AssetCheckSpec("no_orphan_keys", asset=wkey(fact), description="Every key resolves."))
        specs.append(
            AssetCheckSpec(
                "current_view_one_row_per_id",
                asset=wkey(fact),
                description=f"`{fact}_current` returns one row per natural id.",
            )
        )
    return specs


def _count(conn, query: sql.Composable) -> int:
    return conn.execute(query).fetchone()[0]


def reconciliation(wh_conn, src_conn, table: str) -> AssetCheckResult:
    source = RECONCILED[table]
    if table in FACT_VERSION_KEY:
        natural_id = FACT_VERSION_KEY[table][0]
        ours = _count(wh_conn, sql.SQL("SELECT count(DISTINCT {}) FROM {}").format(
            sql.Identifier(natural_id), sql.Identifier(table)))
    else:
        ours = _count(wh_conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    theirs = _count(src_conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(source)))
    return AssetCheckResult(
        asset_key=wkey(table),
        check_name="reconciles_with_source",
        passed=ours == theirs,
        severity=AssetCheckSeverity.WARN,
        metadata={"warehouse": MetadataValue.int(ours), "source": MetadataValue.int(theirs)},
    )


def orphan_keys(conn, fact: str) -> AssetCheckResult:
    orphans: dict[str, int] = {}
    for fact_table, column, dim, dim_column in FOREIGN_KEYS:
        if fact_table != fact:
            continue
        n = _count(
            conn,
            sql.SQL("SELECT count(*) FROM {f} f WHERE NOT EXISTS (SELECT 1 FROM {d} d WHERE d.{dc} = f.{c})").format(
                f=sql.Identifier(fact), d=sql.Identifier(dim), dc=sql.Identifier(dim_column), c=sql.Identifier(column)
            ),
        )
        if n:
            orphans[f"{column} -> {dim}"] = n
    return AssetCheckResult(
        asset_key=wkey(fact),
        check_name="no_orphan_keys",
        passed=not orphans,
        severity=AssetCheckSeverity.ERROR,
        metadata={"orphans": MetadataValue.json(orphans)},
    )


def current_view(conn, fact: str) -> AssetCheckResult:
    natural_id = FACT_VERSION_KEY[fact][0]
    rows, ids = conn.execute(
        sql.SQL("SELECT count(*), count(DISTINCT {}) FROM {}").format(
            sql.Identifier(natural_id), sql.Identifier(f"{fact}_current")
        )
    ).fetchone()
    return AssetCheckResult(
        asset_key=wkey(fact),
        check_name="current_view_one_row_per_id",
        passed=rows == ids,
        severity=AssetCheckSeverity.ERROR,
        metadata={"rows": MetadataValue.int(rows), "natural_ids": MetadataValue.int(ids)},
    )
