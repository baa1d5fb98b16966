"""Capturing several tables at once, and giving up early on the ones not started when the source is down."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TypeVar

import psycopg

from reveries_pipeline.ingestion.failures import SourceUnreachable

Result = TypeVar("Result")


def run_per_table(
    capture: Callable[[str], Result], tables: Sequence[str], parallel: int
) -> Iterator[tuple[str, Result | BaseException]]:
    """(table, result or exception) for each table, as each finishes.

    A transient source error (the source unreachable) skips the tables not yet started: they would
    only wait out the same timeout, and the step's retry captures them all.
    """
    unreachable = threading.Event()

    def attempt(table: str) -> Result:
        if unreachable.is_set():
            raise SourceUnreachable(table)
        try:
            return capture(table)
        except psycopg.OperationalError:
            unreachable.set()
            raise

    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="capture")
    try:
        futures: dict[Future, str] = {pool.submit(attempt, table): table for table in tables}
        for future in as_completed(futures):
            exc = future.exception()
            yield futures[future], exc if exc is not None else future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # the step was stopped: don't start more tables
