"""The pass log: typed records in `passes.json`, bounded, and readable whatever version wrote them."""

from __future__ import annotations

import datetime as dt
import json

from reveries_pipeline.processing.pass_log import PASS_LOG_LIMIT, PassRecord
from reveries_pipeline.processing.rewind import rewind_to_reprocess
from reveries_pipeline.processing.state import CHECKPOINT_KEY, PASS_LOG_KEY, ProcessingState, ProcessingStateStore

# Written the way passes.json is written (json.dumps, no indent): one entry of each shape.
LOGGED_BEFORE_RELEASES_AND_DAYS = {"at": "2026-01-02T03:04:05.678+00:00", "checkpoint_before": {}, "written": ["a/1"]}
LOGGED_NOW = {
    "at": "2026-01-03T03:04:05.678+00:00",
    "checkpoint_before": {"sales_order": "sales_order/1", "staff": "staff/1"},
    "released_from": {"sales_order": None},
    "written": ["fact_sales_order/2", "dim_date/2"],
    "dim_date": [["2026-01-01", "2026-01-03"]],
}


def test_the_pass_log_keeps_the_last_passes_only(processed_store):
    state = ProcessingState()
    for n in range(PASS_LOG_LIMIT + 7):
        state.finish_pass(
            {"sales_order": f"raw-{n:04d}"}, PassRecord.now({"sales_order": f"raw-{n:04d}"}, [f"f/{n}"], {}, [])
        )
    ProcessingStateStore(processed_store).save(state)
    passes = ProcessingStateStore(processed_store).load().passes
    assert len(passes) == PASS_LOG_LIMIT
    assert passes[0].written == ("f/7",) and passes[-1].checkpoint_before == {"sales_order": "raw-0506"}
    assert dt.datetime.fromisoformat(passes[-1].at).tzinfo is not None


def test_a_stored_pass_log_reads_as_records_and_an_unchanged_one_is_not_rewritten(processed_store):
    stored = json.dumps({"passes": [LOGGED_BEFORE_RELEASES_AND_DAYS, LOGGED_NOW]}).encode()
    processed_store.put_state(PASS_LOG_KEY, stored)
    store = ProcessingStateStore(processed_store)
    old, now = store.load().passes
    assert old == PassRecord("2026-01-02T03:04:05.678+00:00", {}, ("a/1",))  # nothing released, no days
    assert now.released_from == {"sales_order": None} and now.dim_date == (("2026-01-01", "2026-01-03"),)
    assert now.to_json() == LOGGED_NOW
    state = ProcessingStateStore(processed_store).load()
    state.passes = state.passes[1:]  # the current shape only: saved back byte for byte
    ProcessingStateStore(processed_store).save(state)
    assert json.loads(processed_store.get_bytes(PASS_LOG_KEY)) == {"passes": [LOGGED_NOW]}
    reloaded = ProcessingStateStore(processed_store)
    assert reloaded.save(reloaded.load()) == []  # nothing changed, nothing written


def test_a_pass_logged_before_releases_and_days_were_recorded_still_rewinds(processed_store):
    processed_store.put_state(PASS_LOG_KEY, json.dumps({"passes": [LOGGED_BEFORE_RELEASES_AND_DAYS]}).encode())
    processed_store.put_state(CHECKPOINT_KEY, json.dumps({"last_raw_keys": {"design": "design/9"}}).encode())
    said = rewind_to_reprocess(processed_store, "a/1")
    assert said.startswith("a/1 was written by the processing pass at 2026-01-02T03:04:05.678+00:00.")
    assert "design to its first batch" in said and "dim_date" not in said
    assert json.loads(processed_store.get_bytes(CHECKPOINT_KEY)) == {"last_raw_keys": {}}
