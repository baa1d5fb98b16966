"""A local stand-in for the ECB's reference-rate site: serves a folder of ECB files on 127.0.0.1.

with serving(FIXTURES) as ecb:           # or the `ecb_server` fixture
    ecb.url                              # "http://127.0.0.1:<port>/", ends in "/"
    ecb.fail("eurofxref-daily.xml", 503) # that path now answers 503 (or 404, ...)
    ecb.serve("eurofxref-daily.xml", other_bytes_or_path)  # ... or other content
    ecb.reset()                          # back to the folder as it is
    ecb.requested                        # the paths asked for, in order
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class EcbServer:
    """What a test can tell the server; the handler reads it on every request."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.requested: list[str] = []
        self._failures: dict[str, int] = {}
        self._failures_left: dict[str, int] = {}
        self._replacements: dict[str, bytes] = {}

    def fail(self, path: str, status: int, times: int | None = None) -> None:
        """Answer `path` (relative to the base URL) with HTTP `status` from now on, or `times` times."""
        self._failures[path.lstrip("/")] = status
        if times is not None:
            self._failures_left[path.lstrip("/")] = times

    def serve(self, path: str, content: bytes | Path) -> None:
        """Answer `path` with `content` (bytes, or a file's) instead of the folder's file."""
        self._replacements[path.lstrip("/")] = content.read_bytes() if isinstance(content, Path) else content

    def reset(self) -> None:
        self._failures.clear()
        self._failures_left.clear()
        self._replacements.clear()


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, state: EcbServer, **kwargs) -> None:
        self.state = state
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0].lstrip("/")
        self.state.requested.append(path)
        if path in self.state._failures:
            self.send_error(self.state._failures[path])
            if path in self.state._failures_left:
                self.state._failures_left[path] -= 1
                if not self.state._failures_left[path]:
                    del self.state._failures[path], self.state._failures_left[path]
        elif path in self.state._replacements:
            body = self.state._replacements[path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


@contextmanager
def serving(directory: Path = FIXTURES) -> Iterator[EcbServer]:
    """Serve `directory` on a free loopback port in a thread until the block ends."""
    state = EcbServer("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, state=state, directory=str(directory)))
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(
        target=partial(server.serve_forever, poll_interval=0.05), name="ecb-fixture-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def ecb_server() -> Iterator[EcbServer]:
    """The ECB fixtures of reference/fixtures/ over HTTP (import this fixture into a test module)."""
    with serving() as state:
        yield state
