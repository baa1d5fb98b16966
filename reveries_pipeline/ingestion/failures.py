"""Why a table's capture failed, and the one step failure that names every failed table.

One table failing doesn't stop the others; the step fails once at the end. It is retried (through the
asset's RetryPolicy) unless every failure is permanent: retrying can't fix schema drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
import pyarrow as pa
from dagster import Failure, MetadataValue

from reveries_pipeline.ingestion.drift import SchemaDriftError
from reveries_pipeline.ingestion.logical import PublicationError, SlotUnavailableError, UnchangedToastError
from reveries_pipeline.resources.secrets import scrub, scrubbed_exception
from reveries_pipeline.resources.untrusted import bounded


class SourceUnreachable(Exception):
    """A table not attempted because another table found the source unreachable."""


@dataclass(frozen=True)
class TableFailure:
    table: str
    message: str
    permanent: bool  # retrying the step can't fix it (schema drift, a missing table...)
    error: BaseException | None = None


def classify_failure(table: str, where: str, exc: BaseException) -> TableFailure:
    """`where` names the source without its password (PostgresResource.safe_name). libpq's text may
    still quote a piece of it, so the message and the exception to chain are scrubbed."""
    failure = _classify(table, where, exc)
    return TableFailure(failure.table, scrub(failure.message), failure.permanent, scrubbed_exception(failure.error))


def slot_read_failure(where: str, exc: BaseException) -> TableFailure:
    """Logical mode: the one slot read every table shares failed, so every selected table failed."""
    if isinstance(exc, SlotUnavailableError | PublicationError | UnchangedToastError):
        # retrying reads the same lost slot or the same setup: only the operator's fix helps
        return TableFailure("*", scrub(f"every table: {exc}"), True, scrubbed_exception(exc))
    failure = classify_failure("*", where, exc)
    return TableFailure(
        failure.table, failure.message.replace("raw/*: ", "every table: ", 1), failure.permanent, failure.error
    )


def _classify(table: str, where: str, exc: BaseException) -> TableFailure:
    if isinstance(exc, psycopg.OperationalError):
        # Transient: the RetryPolicy retries the step. Name the table and host, never the password.
        return TableFailure(table, f"raw/{table}: reading totesys at {where} failed: {str(exc).strip()}", False, exc)
    if isinstance(exc, SourceUnreachable):
        return TableFailure(table, f"raw/{table}: not attempted, totesys at {where} was unreachable", False)
    if isinstance(exc, SchemaDriftError):
        return TableFailure(table, str(exc), True, exc)
    if isinstance(exc, pa.ArrowInvalid):
        # a source value the capture has no guard for: the same rows fail again, so retrying can't help
        return TableFailure(
            table, f"raw/{table}: a source value can't be read as its column's type: {bounded(str(exc))}", True, exc
        )
    if isinstance(exc, psycopg.Error | LookupError | TypeError):
        return TableFailure(table, f"raw/{table}: capture from totesys at {where} failed: {exc}", True, exc)
    # anything else (the bucket, the local disk) may pass: let the RetryPolicy try again
    return TableFailure(table, f"raw/{table}: {type(exc).__name__}: {exc}", False, exc)


def step_failure(failures: Sequence[TableFailure], selected: Sequence[str]) -> Failure:
    captured = len(selected) - len(failures)
    lines = "\n".join(f.message for f in failures)
    return Failure(
        description=f"{len(failures)} of {len(selected)} tables failed ({captured} captured):\n{lines}",
        metadata={
            "failed_tables": MetadataValue.json({f.table: f.message for f in failures}),
            "captured_tables": MetadataValue.int(captured),
        },
        allow_retries=not all(f.permanent for f in failures),
    )


def first_error(failures: Sequence[TableFailure]) -> BaseException | None:
    """The exception to chain the step failure to (its traceback is the most useful one to show)."""
    return next((f.error for f in failures if f.error is not None), None)
