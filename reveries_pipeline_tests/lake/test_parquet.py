"""Reading parquet batch objects within the bucket's read limits, on a local and an S3 bucket: the
size, then the footer's row count and decoded size, are checked before any data is read; an object
over a limit is named with the limit; a large object is never held whole as bytes."""

from __future__ import annotations

import tracemalloc

import numpy as np
import polars as pl
import pytest

from reveries_pipeline.lake import parquet
from reveries_pipeline.lake.parquet import read_parquet_object, read_state_frame, write_new_parquet
from reveries_pipeline.resources.object_store import ObjectStore
from reveries_pipeline.resources.read_limits import MAX_OBJECT_ROWS_ENV, ObjectOverLimitError


def _requests(store: ObjectStore) -> list[str]:
    """The S3 operations the store's client makes from now on (always empty for a local bucket)."""
    seen: list[str] = []
    if store.is_s3:
        store._backend.client.meta.events.register(
            "before-call.s3", lambda event_name, **_: seen.append(event_name.rsplit(".", 1)[-1])
        )
    return seen


def test_a_batch_over_the_row_limit_is_named_and_its_data_never_decoded(ingestion_store, monkeypatch):
    key, _ = write_new_parquet(ingestion_store, "sales_order", pl.DataFrame({"id": range(100)}))
    limited = ObjectStore(url=ingestion_store.url, max_object_rows=99)
    decoded: list[object] = []
    real_read = pl.read_parquet
    monkeypatch.setattr(pl, "read_parquet", lambda *a, **k: decoded.append(a) or real_read(*a, **k))

    with pytest.raises(ObjectOverLimitError) as caught:
        read_parquet_object(limited, key)

    message = str(caught.value)
    assert repr(key) in message and ingestion_store.url in message
    assert "100 rows" in message and "99 rows" in message and f"export {MAX_OBJECT_ROWS_ENV}=200" in message
    assert decoded == []  # refused from the footer
    with pytest.raises(ObjectOverLimitError):
        read_state_frame(limited, key)  # processing's state frames are held to the same limits
    assert read_parquet_object(ObjectStore(url=ingestion_store.url, max_object_rows=100), key).height == 100


def test_a_batch_whose_listed_size_is_over_the_limit_is_refused_without_a_request(ingestion_store):
    key, size = write_new_parquet(ingestion_store, "sales_order", pl.DataFrame({"id": range(100)}))
    limited = ObjectStore(url=ingestion_store.url, max_object_bytes=size - 1)
    requests = _requests(limited)

    with pytest.raises(ObjectOverLimitError, match=f"its size is {size:,} bytes, the limit is {size - 1:,}"):
        read_parquet_object(limited, key, size)
    assert requests == []

    # Without the listing's size, the first read's headers give it: still no HEAD, and no second GET.
    with pytest.raises(ObjectOverLimitError, match=f"its size is {size:,} bytes"):
        read_parquet_object(limited, key)
    assert requests == (["GetObject"] if limited.is_s3 else [])


def test_a_batch_that_decodes_to_more_than_the_byte_limit_is_refused(ingestion_store):
    # distinct long strings: zstd stores them in a few KB, the footer says they decode to ~10 MB
    frame = pl.DataFrame({"s": [f"{'x' * 1000}{i}" for i in range(10_000)]})
    key, size = write_new_parquet(ingestion_store, "sales_order", frame)
    limit = 1_000_000
    assert size < limit
    with pytest.raises(ObjectOverLimitError, match=r"its decoded size is [\d,]+ bytes, the limit is 1,000,000"):
        read_parquet_object(ObjectStore(url=ingestion_store.url, max_object_bytes=limit), key)


def test_a_batch_larger_than_the_first_read_is_read_in_pieces_never_whole_as_bytes(ingestion_store):
    frame = pl.DataFrame({"x": np.random.default_rng(1).random(1_000_000)})  # ~8 MB: random doubles don't compress
    key, size = write_new_parquet(ingestion_store, "sales_order", frame)
    assert size > 4 << 20  # several times the first read of its end (FOOTER_READ_BYTES)
    requests = _requests(ingestion_store)

    tracemalloc.start()  # Python allocations only: polars decodes in Rust (moto, in this process, is traced too)
    try:
        read = read_parquet_object(ingestion_store, key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert read.equals(frame)
    if ingestion_store.is_s3:
        assert requests == ["GetObject", "GetObject"]  # the end (footer and size), then the rest: no HEAD
    else:
        assert peak < size / 2  # the first read of the end, never the whole object


def test_a_footer_larger_than_the_first_read_is_fetched_whole(ingestion_store, monkeypatch):
    monkeypatch.setattr(parquet, "FOOTER_READ_BYTES", 16)
    frame = pl.DataFrame({"id": range(1000), "name": [f"n{i}" for i in range(1000)]})
    key, _ = write_new_parquet(ingestion_store, "sales_order", frame)
    assert read_parquet_object(ingestion_store, key).equals(frame)
