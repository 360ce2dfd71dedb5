"""A real SMTP server for the tests: aiosmtpd on a free local port, keeping every message it accepts."""
from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


class Collector:
    """The aiosmtpd handler: each accepted message, parsed, in ``messages``."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A local TCP port nobody listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """A started server: ``host``, ``port``, ``messages``; ``stop()``/``start()`` to play an outage."""

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.collector = Collector()
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages

    def start(self) -> None:
        self.controller = Controller(self.collector, hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) for one test; its messages in ``smtp_server.messages``."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
