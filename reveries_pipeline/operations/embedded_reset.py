"""Start the embedded default over after totesys is reseeded (what `reveries demo` does).

Seeding replaces totesys wholesale, so what was built from the old data must go too: the raw lake, and
each later stage's derived state, reset by that stage (processing its bucket and state, the warehouse
its tables). Only the embedded default is reset; endpoints the user configured are never emptied.
"""

from __future__ import annotations

import shutil

import psycopg

from reveries_pipeline.embedded import embedded_dsn
from reveries_pipeline.endpoints import Endpoints
from reveries_pipeline.processing.derived_state import reset_derived_state
from reveries_pipeline.resources import ObjectStore
from reveries_pipeline.warehouse.schema import empty_warehouse


def reset_embedded_derived_state(endpoints: Endpoints) -> list[str]:
    """Empty the embedded default's raw lake, processed bucket and warehouse, each unless configured.
    Returns the variables whose endpoints were kept, in that order."""
    if not endpoints.ingestion.configured:
        shutil.rmtree(endpoints.ingestion.embedded_dir, ignore_errors=True)
    if not endpoints.processed.configured:
        reset_derived_state(ObjectStore(url=endpoints.processed.embedded_dir))
    if not endpoints.warehouse.configured:
        with psycopg.connect(embedded_dsn(endpoints.warehouse.embedded_database)) as conn:
            empty_warehouse(conn)
    kept = (endpoints.ingestion, endpoints.processed, endpoints.warehouse)
    return [endpoint.variable for endpoint in kept if endpoint.configured]
