import io

import pytest

from reveries_pipeline.resources.object_errors import ObjectExistsError
from reveries_pipeline.resources.object_store import ObjectStore
from reveries_pipeline.resources.read_limits import (
    DEFAULT_MAX_OBJECT_BYTES,
    DEFAULT_MAX_OBJECT_ROWS,
    DEFAULT_MAX_STATE_BYTES,
    MAX_OBJECT_BYTES_ENV,
    MAX_OBJECT_ROWS_ENV,
    MAX_STATE_BYTES_ENV,
    ObjectOverLimitError,
)


def test_put_new_never_overwrites_and_lists_in_key_order(ingestion_store: ObjectStore):
    ingestion_store.put_new_bytes("t/2024/01/02/b.parquet", b"bb")
    ingestion_store.put_new_bytes("t/2024/01/01/a.parquet", b"a")
    ingestion_store.put_new_bytes("u/2024/01/01/c.parquet", b"ccc")
    with pytest.raises(ObjectExistsError):
        ingestion_store.put_new_bytes("t/2024/01/01/a.parquet", b"changed")
    assert ingestion_store.get_bytes("t/2024/01/01/a.parquet") == b"a"

    keys = [(o.key, o.size) for o in ingestion_store.list_objects("t/")]
    assert keys == [("t/2024/01/01/a.parquet", 1), ("t/2024/01/02/b.parquet", 2)]
    after = [o.key for o in ingestion_store.list_objects("t/", start_after="t/2024/01/01/a.parquet")]
    assert after == ["t/2024/01/02/b.parquet"]
    assert ingestion_store.get_bytes("missing") is None


def test_state_documents_are_replaceable_but_only_under_state_prefix(ingestion_store: ObjectStore):
    ingestion_store.put_state("_state/x.json", b"1")
    ingestion_store.put_state("_state/x.json", b"2")
    assert ingestion_store.get_bytes("_state/x.json") == b"2"
    with pytest.raises(ValueError):
        ingestion_store.put_state("t/x.json", b"1")


def test_bad_bucket_url_is_a_clear_error():
    with pytest.raises(ValueError, match="unsupported bucket URL"):
        ObjectStore(url="gs://nope").list_objects("")


def test_get_bytes_refuses_an_object_over_its_limit_naming_the_key_and_the_limit(make_bucket_url):
    url = make_bucket_url("limits")
    ObjectStore(url=url).put_state("_state/doc.json", b"x" * 100)
    ObjectStore(url=url).put_new_bytes("t/a.parquet", b"y" * 100)
    store = ObjectStore(url=url, max_state_bytes=99, max_object_bytes=100)

    with pytest.raises(ObjectOverLimitError) as caught:
        store.get_bytes("_state/doc.json")  # a JSON state document: the state-document limit

    message = str(caught.value)
    assert "'_state/doc.json'" in message and url in message
    assert "100 bytes, the limit is 99 bytes" in message and f"export {MAX_STATE_BYTES_ENV}=200" in message
    assert store.get_bytes("t/a.parquet") == b"y" * 100  # any other object: the object limit, which it meets
    with pytest.raises(ObjectOverLimitError, match=MAX_OBJECT_BYTES_ENV):
        ObjectStore(url=url, max_object_bytes=99).get_bytes("t/a.parquet")


def test_read_limits_come_from_the_field_else_the_environment_else_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv(MAX_OBJECT_ROWS_ENV, "1_000")
    assert ObjectStore(url=str(tmp_path)).limits.object_rows.value == 1000
    assert ObjectStore(url=str(tmp_path), max_object_rows=7).limits.object_rows.value == 7
    monkeypatch.setenv(MAX_OBJECT_ROWS_ENV, " ")  # blank means unset, as in a .env file
    limits = ObjectStore(url=str(tmp_path)).limits
    assert (limits.object_bytes.value, limits.object_rows.value, limits.state_bytes.value) == (
        DEFAULT_MAX_OBJECT_BYTES,
        DEFAULT_MAX_OBJECT_ROWS,
        DEFAULT_MAX_STATE_BYTES,
    )


@pytest.mark.parametrize("raw", ["0", "-5", "2GiB", "1.5"])
def test_a_read_limit_that_is_not_a_positive_whole_number_is_refused(monkeypatch, tmp_path, raw):
    monkeypatch.setenv(MAX_OBJECT_BYTES_ENV, raw)
    with pytest.raises(ValueError, match=f"{MAX_OBJECT_BYTES_ENV}='{raw}' is not a positive whole number of bytes"):
        _ = ObjectStore(url=str(tmp_path)).limits
    with pytest.raises(ValueError, match="greater than 0"):
        ObjectStore(url=str(tmp_path), max_state_bytes=0)


def test_read_tail_gives_the_end_and_the_size_in_one_request(ingestion_store: ObjectStore):
    data = bytes(range(256)) * 40
    ingestion_store.put_new_bytes("t/a.bin", data)
    requests: list[str] = []
    if ingestion_store.is_s3:
        ingestion_store._backend.client.meta.events.register(
            "before-call.s3", lambda event_name, **_: requests.append(event_name.rsplit(".", 1)[-1])
        )

    assert ingestion_store.read_tail("t/a.bin", 10) == (data[-10:], len(data))
    assert requests == (["GetObject"] if ingestion_store.is_s3 else [])
    assert ingestion_store.read_tail("t/a.bin", 1 << 20) == (data, len(data))  # all of a smaller object
    assert ingestion_store.read_tail("t/missing.bin", 10) is None
    head = io.BytesIO()
    ingestion_store.copy_head("t/a.bin", len(data) - 10, head)
    assert head.getvalue() == data[:-10]


def test_delete_removes_exactly_one_key_never_the_keys_it_prefixes(ingestion_store: ObjectStore):
    for key in ("t/a.parquet", "t/a.parquet.json", "t/b.parquet"):
        ingestion_store.put_new_bytes(key, b"x")

    ingestion_store.delete("t/a.parquet")
    ingestion_store.delete("t/never-there.parquet")  # absent: nothing to do, no error

    assert [o.key for o in ingestion_store.list_objects("t/")] == ["t/a.parquet.json", "t/b.parquet"]
