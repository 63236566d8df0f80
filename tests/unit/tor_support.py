"""What the Tor timeout tests share: :class:`FakeTor`, a loopback TCP server speaking just enough of tor's control
protocol (PROTOCOLINFO, AUTHENTICATE, GETINFO) or nothing at all, and :func:`returns_within`, which fails a test whose
call is still running after a bound instead of hanging the test run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from crawler.tor.endpoints import TorEndpoint

BOOTSTRAP_DONE = 'NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"'
CIRCUITS = "1 BUILT $A~a,$B~b PURPOSE=GENERAL\n2 BUILT $C~c PURPOSE=GENERAL\n3 LAUNCHED PURPOSE=GENERAL"


class FakeTor:
    """Accepts connections on a free loopback port. *silent*: reads and never answers (a hung tor, or any other
    program on the port). *socks*: answers a SOCKS5 method negotiation (no authentication), then nothing. Otherwise
    answers like tor's control port with cookie-less (NULL) authentication, until a line starting with *hang_on*
    arrives: from then on it says nothing more."""

    def __init__(self, silent: bool = False, socks: bool = False, hang_on: str | None = None,
                 info: dict[str, str] | None = None):
        self.silent = silent
        self.socks = socks
        self.hang_on = hang_on
        self.info = {"status/bootstrap-phase": BOOTSTRAP_DONE, "circuit-status": CIRCUITS, **(info or {})}
        self.received: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def endpoint(self, socks_port: int | None = None) -> TorEndpoint:
        """A tor endpoint whose control port is this server (and SOCKS port *socks_port*, default this one too)."""
        return TorEndpoint(0, "127.0.0.1", socks_port or self.port, "127.0.0.1", self.port, None)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        if self.socks:
            if connection.recv(16).startswith(b"\x05"):
                connection.sendall(b"\x05\x00")
            return
        lines = connection.makefile("rb")
        hung = self.silent
        try:
            for raw in lines:
                line = raw.decode().strip()
                self.received.append(line)
                if hung or (self.hang_on and line.startswith(self.hang_on)):
                    hung = True
                    continue
                connection.sendall(self._answer(line).encode())
        except OSError:
            pass

    def _answer(self, line: str) -> str:
        command, _, argument = line.partition(" ")
        if command == "PROTOCOLINFO":
            return '250-PROTOCOLINFO 1\r\n250-AUTH METHODS=NULL\r\n250-VERSION Tor="0.4.8.10"\r\n250 OK\r\n'
        if command == "GETINFO":
            if argument not in self.info:
                return f'552 Unrecognized key "{argument}"\r\n'
            value = self.info[argument]
            if "\n" in value:
                return f"250+{argument}=\r\n{value}\r\n.\r\n250 OK\r\n".replace("\n", "\r\n").replace("\r\r", "\r")
            return f"250-{argument}={value}\r\n250 OK\r\n"
        return "250 OK\r\n"

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()


def returns_within(seconds: float, call: Callable[[], Any]) -> tuple[Any, float]:
    """Run *call*; return ``(its result or the exception it raised, seconds it took)``. Fails the test when the call
    is still running after *seconds* (it is left behind in a daemon thread)."""
    outcome: list[Any] = []
    started = time.monotonic()

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), f"still running after {seconds} s: the timeout does not bound the call"
    return outcome[0], elapsed


@pytest.fixture
def fake_tor():
    """Start :class:`FakeTor` servers (``fake_tor(silent=True)``, ...); all are closed after the test."""
    servers: list[FakeTor] = []

    def start(**options: Any) -> FakeTor:
        server = FakeTor(**options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
