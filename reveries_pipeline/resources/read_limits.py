"""Read limits: every read of a lake object is checked against them before its data is read.

A batch's stored size (from the listing or the GET's headers) and, from its parquet footer, its row
count and decoded size; a JSON state document's size. Each is set by a field of the bucket's
ObjectStore resource, else by an environment variable, else by a default far above totesys sizes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from dagster import Failure

MAX_OBJECT_BYTES_ENV = "REVERIES_LAKE_MAX_OBJECT_BYTES"
MAX_OBJECT_ROWS_ENV = "REVERIES_LAKE_MAX_OBJECT_ROWS"
MAX_STATE_BYTES_ENV = "REVERIES_LAKE_MAX_STATE_BYTES"
DEFAULT_MAX_OBJECT_BYTES = 2 * 1024**3
DEFAULT_MAX_OBJECT_ROWS = 50_000_000
DEFAULT_MAX_STATE_BYTES = 64 * 1024**2


@dataclass(frozen=True)
class ReadLimit:
    """One limit, and where it is set (the over-limit error says how to raise it)."""

    value: int
    unit: str  # "bytes" or "rows"
    env_var: str
    field: str  # the ObjectStore field that overrides the variable


@dataclass(frozen=True)
class ReadLimits:
    object_bytes: ReadLimit  # a batch object: stored size, and decoded size from its footer
    object_rows: ReadLimit  # a batch object: rows, from its footer
    state_bytes: ReadLimit  # a JSON state document under _state/


class ObjectOverLimitError(Failure):
    """A lake object over a read limit; nothing of its data was read. Names the bucket, the key, what
    was measured and the limit, and how to raise the limit. A Dagster Failure: the step fails with
    this message as its error, and is not retried (the object won't shrink)."""

    def __init__(self, bucket_url: str, key: str, measure: str, amount: int, limit: ReadLimit):
        self.bucket_url, self.key, self.measure, self.amount, self.limit = bucket_url, key, measure, amount, limit
        super().__init__(
            description=(
                f"object {key!r} in bucket {bucket_url} is over the read limit: its {measure} is {amount:,} "
                f"{limit.unit}, the limit is {limit.value:,} {limit.unit}. Its data was not read. If the object "
                f"is expected, raise the limit ({limit.field} on the bucket's ObjectStore resource, or the "
                f"environment of the runs) and run again: export {limit.env_var}={2 * amount}"
            ),
            metadata={"bucket": bucket_url, "key": key, measure: amount, "limit": limit.value},
            allow_retries=False,
        )


def _positive_int(env_var: str, raw: str, unit: str) -> int:
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{env_var}={raw!r} is not a positive whole number of {unit}; unset it for the default")
    return value


def read_limit(field_value: int | None, field: str, env_var: str, default: int, unit: str) -> ReadLimit:
    """The field's value if set, else the environment variable's, else the default."""
    if field_value is not None:
        value = field_value
    else:
        raw = os.environ.get(env_var, "").strip()  # empty means unset, as in a .env file
        value = _positive_int(env_var, raw, unit) if raw else default
    return ReadLimit(value, unit, env_var, field)
