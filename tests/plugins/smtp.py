"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting what it receives.

Django's locmem outbox (pytest-django's default) checks what the app *meant* to send;
these fixtures check what really crosses the wire to a mail server.

- ``smtp_server`` (session): the running server; ``.host``, ``.port``, ``.messages``.
- ``smtp_mail`` (function): points Django's SMTP backend at that server for one test and
  starts it with an empty mailbox. Use it as ``smtp_mail.messages`` (parsed
  ``email.message.EmailMessage`` objects, in arrival order) or ``smtp_mail.envelopes``.

aiosmtpd cannot listen on port 0, so a free port is found by binding a socket to port 0,
closing it and starting the server there; if another program takes the port in between,
the next one is tried.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


@dataclass
class Mailbox:
    """What the server has received. Filled from the server's thread, read from tests."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        with self._lock:
            self._envelopes.append(Envelope(envelope.mail_from, tuple(envelope.rcpt_tos),
                                            message))
        return "250 Message accepted for delivery"

    @property
    def envelopes(self) -> list[Envelope]:
        with self._lock:
            return list(self._envelopes)

    @property
    def messages(self) -> list[EmailMessage]:
        return [e.message for e in self.envelopes]

    def clear(self) -> None:
        with self._lock:
            self._envelopes.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages, once at least ``count`` have arrived (or fail after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages over SMTP within {timeout}s, "
                                     f"got {len(self.envelopes)}")
            time.sleep(0.02)
        return self.messages


@dataclass
class SMTPServer:
    host: str
    port: int
    mailbox: Mailbox
    controller: Controller

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages

    @property
    def envelopes(self) -> list[Envelope]:
        return self.mailbox.envelopes

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        return self.mailbox.wait_for(count, timeout)


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_smtp_server(host: str = HOST, attempts: int = 5) -> SMTPServer:
    mailbox = Mailbox()
    last_error: Exception | None = None
    for _ in range(attempts):
        port = free_port(host)
        controller = Controller(mailbox, hostname=host, port=port, ready_timeout=10)
        try:
            controller.start()
        except (OSError, RuntimeError) as exc:  # the port was taken in between: try another
            last_error = exc
            continue
        return SMTPServer(host=host, port=port, mailbox=mailbox, controller=controller)
    raise RuntimeError(f"could not start the test SMTP server: {last_error}")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPServer]:
    server = start_smtp_server()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def smtp_mail(smtp_server: SMTPServer, settings: Any) -> SMTPServer:
    """Send this test's email through Django's SMTP backend to the local test server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    smtp_server.mailbox.clear()
    return smtp_server
