"""Which way ingestion reads totesys: polling `last_updated` (the default) or logical replication.

`TOTESYS_CAPTURE=logical` switches every ingestion run to the source's WAL, read through a logical
replication slot (ingestion/logical/). It needs the DBA's setup once (`reveries totesys setup-cdc`);
`poll` needs nothing on the source. The environment picks the mode in one place (environment.py).
"""

from __future__ import annotations

from enum import StrEnum

from dagster import ConfigurableResource
from pydantic import Field

from reveries_pipeline.ingestion.logical.settings import LogicalCaptureSettings

TOTESYS_CAPTURE = "TOTESYS_CAPTURE"
DEFAULT_RETAINED_WAL_WARN_BYTES = 1024**3


class CaptureMode(StrEnum):
    POLL = "poll"
    LOGICAL = "logical"


class TotesysCapture(ConfigurableResource):
    """How raw_totesys_tables reads changes, and the slot and publication logical mode reads through."""

    mode: CaptureMode = Field(default=CaptureMode.POLL, description="'poll' (last_updated) or 'logical' (WAL).")
    publication: str = Field(default="reveries", description="Publication of the captured tables (logical mode).")
    slot: str = Field(default="reveries", description="Logical replication slot (logical mode).")
    retained_wal_warn_bytes: int = Field(
        default=DEFAULT_RETAINED_WAL_WARN_BYTES,
        ge=1,
        description="The retained_wal check warns when the slot keeps more WAL than this on the source.",
    )

    @property
    def is_logical(self) -> bool:
        return self.mode is CaptureMode.LOGICAL

    def logical_settings(self) -> LogicalCaptureSettings:
        return LogicalCaptureSettings(publication=self.publication, slot=self.slot)


def capture_mode(value: str | None) -> CaptureMode:
    """The mode TOTESYS_CAPTURE names (unset or blank: poll); a clear ValueError for anything else."""
    text = (value or "").strip().lower() or CaptureMode.POLL.value
    try:
        return CaptureMode(text)
    except ValueError:
        choices = ", ".join(m.value for m in CaptureMode)
        raise ValueError(f"{TOTESYS_CAPTURE} must be one of {choices}, not {value!r}") from None
