"""How a table's capture failure is classed: what retrying can fix, and what it can't."""

from __future__ import annotations

import psycopg
import pyarrow as pa

from reveries_pipeline.ingestion.failures import classify_failure, step_failure


def test_an_unparseable_source_value_is_permanent_and_bounded():
    error = pa.ArrowInvalid("CSV conversion error to timestamp[ms]: invalid value '" + "9" * 5000 + "'")
    failure = classify_failure("sales_order", "postgresql://u@h/db", error)
    assert failure.permanent
    assert failure.message.startswith("raw/sales_order: a source value can't be read as its column's type")
    assert len(failure.message) < 400 and "[5" in failure.message  # cut, with the real length named
    assert step_failure([failure], ["sales_order", "payment"]).allow_retries is False


def test_an_unreachable_source_is_retried():
    failure = classify_failure("sales_order", "postgresql://u@h/db", psycopg.OperationalError("connection refused"))
    assert not failure.permanent
    assert step_failure([failure], ["sales_order"]).allow_retries is True
