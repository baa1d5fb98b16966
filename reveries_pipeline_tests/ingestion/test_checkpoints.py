"""Checkpoint rules that hostile values reach: marks past the source clock, times with no exact value,
and timestamps near year 1."""

from __future__ import annotations

from datetime import datetime, timedelta

from reveries_pipeline.ingestion.checkpoints import BatchRecord, Checkpoint, window_start

CLOCK = datetime(2026, 12, 6, 12, 0)


def _history(*ranges: tuple[datetime, datetime]) -> list[BatchRecord]:
    return [BatchRecord(f"t/{i}", low, high) for i, (low, high) in enumerate(ranges)]


def test_a_mark_within_the_clock_is_left_alone():
    checkpoint = Checkpoint("t", high_water_mark=CLOCK - timedelta(hours=1))
    assert checkpoint.without_future_mark(CLOCK) == (checkpoint, [])


def test_a_mark_past_the_clock_goes_back_to_the_lowest_time_of_the_batch_that_took_it_past():
    history = _history(
        (datetime(2026, 1, 1), datetime(2026, 6, 1)),
        (datetime(2026, 7, 1), datetime(2999, 1, 1)),  # real rows from July 1st, and the 2999 row
        (datetime(2999, 1, 1), datetime(2999, 1, 1)),  # captured while the mark was stuck
    )
    checkpoint = Checkpoint("t", high_water_mark=datetime(2999, 1, 1), window=[(7, datetime(2999, 1, 1))])
    checkpoint.history = history
    repaired, notes = checkpoint.without_future_mark(CLOCK)
    assert repaired.high_water_mark == datetime(2026, 7, 1)
    assert repaired.window == checkpoint.window  # the future row is still known: it doesn't come again
    assert "2999-01-01T00:00:00.000" in notes[0] and "moved back to 2026-07-01T00:00:00.000" in notes[0]


def test_a_mark_past_the_clock_with_only_sane_batches_goes_back_to_the_last_of_them():
    checkpoint = Checkpoint("t", high_water_mark=datetime(2999, 1, 1))
    checkpoint.history = _history(
        (datetime(2026, 1, 1), datetime(2026, 6, 1)), (datetime(2026, 6, 2), datetime(2026, 6, 3))
    )
    assert checkpoint.without_future_mark(CLOCK)[0].high_water_mark == datetime(2026, 6, 3)


def test_a_mark_past_the_clock_with_no_sane_batch_means_a_full_snapshot():
    checkpoint = Checkpoint("t", high_water_mark=datetime(2999, 1, 1))
    checkpoint.history = _history((datetime(2999, 1, 1), datetime(2999, 1, 1)))
    repaired, _ = checkpoint.without_future_mark(CLOCK)
    assert repaired.high_water_mark is None


def test_window_times_with_no_exact_value_and_year_one_survive_a_round_trip():
    checkpoint = Checkpoint("t", high_water_mark=datetime(1, 1, 1, 0, 5), window=[(1, None), (2, datetime(1, 1, 1))])
    again = Checkpoint.from_json(checkpoint.to_json())
    assert again.window == checkpoint.window and again.high_water_mark == checkpoint.high_water_mark
    assert b'"0001-01-01T00:05:00.000"' in checkpoint.to_json()


def test_the_window_below_a_mark_near_year_one_starts_at_the_beginning_of_time():
    assert window_start(datetime(1, 1, 1, 0, 5), timedelta(minutes=15)) == datetime.min
    assert window_start(None, timedelta(minutes=15)) == datetime.min
    assert window_start(CLOCK, timedelta(minutes=15)) == CLOCK - timedelta(minutes=15)


def test_a_stored_batch_with_no_representable_time_is_counted_but_not_located():
    after = Checkpoint("t").with_stored_batch("t/1", 3, None, None)
    assert (after.batches, after.rows, after.history) == (1, 3, [])
