"""The Dagster instance that `reveries dev`, `demo` and `run --persist` record runs in.

The project's dagster.yaml holds the instance settings (run queue limits, pools, retries, run
monitoring). Read as it is, by `dagster job execute` run from the project folder without a
DAGSTER_HOME, it gives Dagster's own throwaway SQLite instance. The persistent instance is the same
file plus PostgreSQL storage at DAGSTER_PG_URL, written into its DAGSTER_HOME: two plain
configurations selected by the environment, with only public Dagster configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from reveries_pipeline.config import DAGSTER_PG_URL, reveries_home
from reveries_pipeline.endpoints import Endpoints

PROJECT_INSTANCE_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"

# dagster-postgres needs psycopg2 (postgresql+psycopg2://): under SQLAlchemy 2.1 a plain
# postgresql:// URL selects psycopg 3, and dagster-postgres's NOTIFY then fails.
# The queue is looked at every second instead of every 5: source_change_sensor's runs start sooner
# (the limits stay those of `concurrency` above).
_POSTGRES_STORAGE = """
# Added by reveries (dagster_instance.py): runs, event logs and schedules in PostgreSQL.
storage:
  postgres:
    postgres_url:
      env: DAGSTER_PG_URL

run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""


def sqlalchemy_url(dsn: str) -> str:
    """A libpq URI as the SQLAlchemy URL dagster-postgres needs: psycopg2 forced."""
    scheme, _, rest = dsn.partition("://")
    return f"postgresql+psycopg2://{rest}" if scheme in ("postgres", "postgresql") else dsn


def prepare_dagster_home(home: Path, postgres_url: str) -> Path:
    """Write `home`/dagster.yaml (the project's settings + PostgreSQL storage) and point DAGSTER_HOME
    and DAGSTER_PG_URL at it for this process and its children. Rewritten every time, so a change to
    the project's dagster.yaml reaches the instance on the next start."""
    home.mkdir(parents=True, exist_ok=True)
    settings = PROJECT_INSTANCE_YAML.read_text(encoding="utf-8")
    target = home / "dagster.yaml"
    if target.is_symlink():  # homes made by earlier versions linked to the project's file
        target.unlink()
    target.write_text(settings.rstrip() + "\n" + _POSTGRES_STORAGE, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ[DAGSTER_PG_URL] = sqlalchemy_url(postgres_url)
    return target


def use_project_instance(endpoints: Endpoints) -> None:
    """Record this process's runs in the project's instance: `.reveries/dagster_home`, with PostgreSQL
    storage at DAGSTER_PG_URL (the embedded `dagster` database when unset). A DAGSTER_HOME you set is
    yours: only a DAGSTER_PG_URL you set is handed on to it."""
    from reveries_pipeline.resources.postgres import check_dsn

    configured = endpoints.dagster.dsn
    if configured:  # checked as libpq sees it, before SQLAlchemy's driver name is added
        configured = check_dsn(configured.replace("+psycopg2://", "://", 1), DAGSTER_PG_URL)
    if "DAGSTER_HOME" in os.environ:
        if configured:
            os.environ[DAGSTER_PG_URL] = sqlalchemy_url(configured)
        return
    prepare_dagster_home(reveries_home() / "dagster_home", configured or endpoints.dagster.conninfo())
