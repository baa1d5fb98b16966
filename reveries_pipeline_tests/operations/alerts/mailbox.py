"""A real SMTP server on loopback (aiosmtpd) that collects what the alert sensors send, with the
password it accepts, and the waits and checks the alert tests share."""

from __future__ import annotations

import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from reveries_pipeline_tests.support import free_port

PASSWORD = "s3cr3t-Pa55word-xyz"  # noqa: S105 - test credential
LOGGER = "reveries_pipeline.operations.alerts"


class _Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


def start_smtp_server() -> tuple[Controller, _Collector]:
    """A started server (stop it with controller.stop()) and the collector of the mail it received."""
    handler = _Collector()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    return controller, handler


def wait_for_mail(handler, n: int, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while len(handler.messages) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return handler.messages


def assert_no_password(caplog, handler):
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
    for msg in handler.messages:
        assert PASSWORD not in msg.as_string()
