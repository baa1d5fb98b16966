"""The run tags and pools that dagster.yaml's concurrency settings refer to, named once."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Jobs that write derived state (processing checkpoint, processed objects, warehouse) carry this tag;
# dagster.yaml lets one of them run at a time, so a rebuild never races a sensor-launched load.
DERIVED_WRITER_TAG: Mapping[str, str] = MappingProxyType({"reveries/derived_state": "writer"})

# The raw assets read the source through this pool (dagster.yaml: at most 2 at once).
TOTESYS_POOL = "totesys"
