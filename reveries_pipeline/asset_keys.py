"""Asset keys and groups tell the flow: `raw/<table>` (ingestion) -> `processed/<table>` -> `warehouse/<table>`.

One prefix per stage, and the group of the same name, so the lineage graph and the catalog in the UI
read left to right. Dagster keeps an asset's history under its key: renaming a key starts a new
history (see the README's upgrade notes).
"""

from __future__ import annotations

from dagster import AssetKey

RAW_GROUP = "raw"
PROCESSED_GROUP = "processed"
WAREHOUSE_GROUP = "warehouse"
REFERENCE_GROUP = "reference"  # data from outside totesys (the ECB's FX rates), stored in the warehouse


def raw_key(source_table: str) -> AssetKey:
    return AssetKey([RAW_GROUP, source_table])


def processed_key(star_table: str) -> AssetKey:
    return AssetKey([PROCESSED_GROUP, star_table])


def warehouse_key(star_table: str) -> AssetKey:
    return AssetKey([WAREHOUSE_GROUP, star_table])
