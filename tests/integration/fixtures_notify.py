"""Real notification receivers on 127.0.0.1 for the tests: an SMTP server (aiosmtpd) that can be stopped and
started again on the same port, and an HTTP receiver for JSON and Mattermost-style webhooks that can answer 500.

Fixtures: ``smtp_server`` (:class:`SmtpServer`), ``webhook_receiver`` (:class:`WebhookReceiver`). Both record what
they received, with the time it arrived (``time.time()``), for the benchmark too."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: Any  # EmailMessage (SMTP) or the parsed JSON (webhooks)
    path: str = ""


def wait_for(condition, timeout: float, what: str, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


class SmtpServer:
    """aiosmtpd on 127.0.0.1:port; ``stop()`` closes the port (connections refused), ``start()`` opens it again."""

    user = "darkcrawl"
    password = "Smtp-pa55word"

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[Received] = []
        self.controller: Any = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(Received(time.time(), dict(message.items()), message))
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user.encode(), self.password.encode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        # AUTH over plain SMTP on loopback: the password really travels, as it would to a real relay (over TLS)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10,
                                     authenticator=self.authenticate, auth_require_tls=False)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def running(self) -> bool:
        return self.controller is not None

    def url(self, to: str = "soc@example.org", password: str | None = None) -> str:
        """An Apprise mailto:// URL for this server (plain SMTP with AUTH: no TLS on loopback)."""
        return (f"mailto://{self.user}:{password or self.password}@127.0.0.1:{self.port}?to={to}"
                "&from=darkcrawl@example.org")

    def by_header(self, name: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in list(self.messages):
            value = message.headers.get(name, "")
            counts[value] = counts.get(value, 0) + 1
        return counts


@dataclass
class WebhookReceiver:
    """An HTTP server recording every POST (path, headers, JSON body); answers 500 while ``fail`` > 0."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    fail: int = 0
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                data = self.rfile.read(length)
                if receiver.fail > 0:
                    receiver.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.loads(data) if data else None
                receiver.requests.append(Received(time.time(), dict(self.headers), body, self.path))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def json_url(self, path: str = "hooks/w3bh00k-s3cret-token") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def mattermost_url(self, token: str = "mm0st-s3cret-token") -> str:
        return f"mmost://127.0.0.1:{self.port}/{token}"


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
