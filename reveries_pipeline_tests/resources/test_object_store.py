import pytest

from reveries_pipeline.resources.object_store import ObjectExistsError, ObjectStore


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
