"""`reveries`: seed and simulate totesys, run the pipeline, serve the UI and the dashboard.

Endpoints follow the configuration contract (TOTESYS_DSN, WAREHOUSE_DSN, INGESTION_BUCKET_URL,
PROCESSED_BUCKET_URL); whatever is unset is served by the embedded default under .reveries/. Every
command asks endpoints.resolve_endpoints() for them.

One module per command group: totesys.py, pipeline.py (run, rebuild), demo.py, lake.py (resnapshot,
quarantine), warehouse.py, serve.py (dev, dashboard, embedded), shell_env.py (env: exports for `dg`).
What they print is in output.py, how they ask before changing things in confirm.py, and how they run
jobs in job_runs.py. Commands import Dagster only when they run, so `reveries --help` and the light
commands stay quick.
"""

from __future__ import annotations

import click

from reveries_pipeline.cli.demo import demo
from reveries_pipeline.cli.lake import quarantine, resnapshot
from reveries_pipeline.cli.pipeline import rebuild, run
from reveries_pipeline.cli.serve import dashboard, dev, embedded
from reveries_pipeline.cli.shell_env import shell_env
from reveries_pipeline.cli.totesys import totesys
from reveries_pipeline.cli.warehouse import warehouse
from reveries_pipeline.endpoints import ConfigurationError


class _ReveriesGroup(click.Group):
    """Turns a malformed DSN, or an endpoint this deployment lacks, into one line naming its variable
    (never the password), not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from None
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


for command in (dashboard, demo, dev, embedded, quarantine, rebuild, resnapshot, run, shell_env, totesys, warehouse):
    main.add_command(command)

__all__ = ["main"]
