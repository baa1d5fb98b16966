"""Waiting in tests without hanging: every wait has a deadline, and a background thread's error is
re-raised in the test the moment it happens instead of leaving the test waiting for a thread that died.

The deadlines are "truly stuck" bounds, well above what a loaded 2-core machine needs: passing them
fails the test with a message saying what never happened. They never measure how fast anything is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol


class WaitTimeout(AssertionError):
    """A wait passed its deadline: what it waited for never happened."""


class Watched(Protocol):
    """Something a wait depends on (a thread, a process): raises once it can no longer make the wait end."""

    def check_running(self, awaited: str) -> None: ...


class Worker:
    """A daemon thread running `target(*args)` that keeps its result or its exception for the test."""

    def __init__(self, target: Callable[..., Any], *args: Any, name: str | None = None):
        self.name = name or getattr(target, "__name__", "worker")
        self._target, self._args = target, args
        self._result: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def _run(self) -> None:
        try:
            self._result = self._target(*self._args)
        except BaseException as e:  # kept for the test: an exception in a thread is otherwise only printed
            self._error = e

    def start(self) -> Worker:
        self._thread.start()
        return self

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def raise_if_failed(self) -> None:
        if self._error is not None:
            raise AssertionError(f"the {self.name} thread failed: {self._error!r}") from self._error

    def check_running(self, awaited: str) -> None:
        self.raise_if_failed()
        if not self.is_alive():
            raise AssertionError(f"the {self.name} thread ended before {awaited}")

    def result(self, timeout: float) -> Any:
        """Its return value once it ends; its exception, re-raised as is; WaitTimeout if it is stuck."""
        self._thread.join(timeout)
        if self.is_alive():
            raise WaitTimeout(f"the {self.name} thread was still running after {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self._result


def wait_until(
    condition: Callable[[], bool],
    awaited: str,
    *,
    timeout: float,
    watching: Iterable[Watched] = (),
    interval: float = 0.02,
) -> None:
    """Poll until `condition()` holds. Fails at once when a watched thread or process fails or ends
    first (with its error), and with WaitTimeout naming `awaited` after `timeout` seconds."""
    watching = list(watching)
    deadline = time.monotonic() + timeout
    while True:
        # The watched are looked at before the condition: one that ended just after making it true passes.
        gone = _first_gone(watching, awaited)
        if condition():
            return
        if gone is not None:
            raise gone
        if time.monotonic() > deadline:
            raise WaitTimeout(f"gave up after {timeout:g} s waiting for {awaited}")
        time.sleep(interval)


def _first_gone(watching: list[Watched], awaited: str) -> AssertionError | None:
    for watched in watching:
        try:
            watched.check_running(awaited)
        except AssertionError as gone:
            return gone
    return None
