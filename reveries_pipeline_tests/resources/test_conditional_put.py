"""On S3 a batch key is never overwritten because the write itself is conditional (If-None-Match: *),
not because a HEAD said the key was free a moment before. Against moto's real S3 API."""

from __future__ import annotations

import pytest

from reveries_pipeline.resources import object_backends
from reveries_pipeline.resources.object_errors import ObjectExistsError, ObjectTooLargeError
from reveries_pipeline.resources.object_store import ObjectStore

s3_bucket = pytest.mark.parametrize("bucket_kind", ["s3"])
KEY = "t/2024/01/01/t-20240101T000000000Z.parquet"


@s3_bucket
def test_a_writer_that_loses_the_race_for_a_key_gets_object_exists(ingestion_store: ObjectStore):
    rival = ObjectStore(url=ingestion_store.url)  # another process, with its own client
    client = ingestion_store._backend.client
    calls: list[str] = []

    def rival_writes_first(event_name, **kwargs):
        calls.append(event_name)
        if event_name.endswith("PutObject") and rival.get_bytes(KEY) is None:
            rival._backend.client.put_object(Bucket=rival._backend.bucket, Key=rival._backend._k(KEY), Body=b"rival")

    client.meta.events.register("before-call.s3", rival_writes_first)
    with pytest.raises(ObjectExistsError):
        ingestion_store.put_new_bytes(KEY, b"mine")
    assert ingestion_store.get_bytes(KEY) == b"rival"  # the first write's bytes are unchanged
    assert not any(c.endswith("HeadObject") for c in calls)  # no check-then-write


@s3_bucket
def test_an_object_too_large_for_one_conditional_put_is_refused(ingestion_store: ObjectStore, monkeypatch):
    monkeypatch.setattr(object_backends, "MAX_CONDITIONAL_PUT_BYTES", 4)  # stands in for 5 GiB
    with pytest.raises(ObjectTooLargeError, match="refusing to write it unconditionally"):
        ingestion_store.put_new_bytes(KEY, b"12345")
    assert ingestion_store.get_bytes(KEY) is None
