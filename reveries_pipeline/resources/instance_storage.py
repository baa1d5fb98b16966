"""Dagster instance storage chosen from the environment (used by dagster.yaml).

With DAGSTER_PG_URL set (`reveries dev` sets it to the embedded server), runs, event logs and
schedules live in PostgreSQL through dagster-postgres, with the psycopg2 driver forced: under
SQLAlchemy 2.1 a plain postgresql:// URL selects psycopg 3 and dagster-postgres's NOTIFY breaks.
Unset, as when an operator runs `dagster job execute` from the project folder without an instance,
the CLI's instance is temporary anyway (deleted on exit), so storage falls back to memory instead of
failing. Memory rather than SQLite: SQLite commits every event to disk (~20 ms each here), which
alone cost ~7 s of a 300-event run.
"""

from __future__ import annotations

import os
import tempfile

from dagster import Field, StringSource
from dagster._core.storage.base_storage import DagsterStorage
from dagster._serdes import ConfigurableClass, ConfigurableClassData

from reveries_pipeline.embedded import sqlalchemy_url


class PostgresFromEnvStorage(DagsterStorage, ConfigurableClass):
    """Not a storage itself: `from_config_value` returns the PostgreSQL or SQLite storage to use."""

    @classmethod
    def config_type(cls):
        return {"url_env": Field(StringSource, default_value="DAGSTER_PG_URL", is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value) -> DagsterStorage:
        url = (os.environ.get(config_value.get("url_env", "DAGSTER_PG_URL")) or "").strip()
        if url:
            from dagster_postgres import DagsterPostgresStorage

            return DagsterPostgresStorage(postgres_url=sqlalchemy_url(url), inst_data=inst_data)
        from dagster._core.storage.event_log import InMemoryEventLogStorage
        from dagster._core.storage.legacy_storage import CompositeStorage
        from dagster._core.storage.runs import InMemoryRunStorage
        from dagster._core.storage.schedules import SqliteScheduleStorage

        return CompositeStorage(
            run_storage=InMemoryRunStorage(),
            event_log_storage=InMemoryEventLogStorage(),
            schedule_storage=SqliteScheduleStorage.from_local(tempfile.mkdtemp(prefix="reveries-dagster-")),
            inst_data=inst_data,
        )

    @property
    def inst_data(self):  # pragma: no cover - never instantiated
        return None
