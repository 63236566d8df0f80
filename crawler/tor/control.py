"""Talking to a running tor: is its SOCKS port answering, how far is it bootstrapped, new circuits on request.

All functions here block (plain sockets, stem's synchronous controller): the crawl calls them from a thread, the CLI
calls them before the crawl starts. Each takes a ``timeout`` that bounds the whole call (connect, authenticate and
every reply), not each step: stem's controller has no timeout of its own and would wait for ever on a control port
that accepts and never answers, so control sessions run within :func:`crawler.deadline.run_within`.

Offers: :func:`socks_answers`, :func:`parse_bootstrap_phase`, :func:`control_session`, :func:`bootstrap_progress`,
:func:`check_endpoint`, :class:`TorStatus`, :func:`request_new_identity`.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from crawler.deadline import run_within
from crawler.tor.endpoints import TorEndpoint

T = TypeVar("T")

logger = logging.getLogger(__name__)

SOCKS_TIMEOUT = 3.0  # seconds a SOCKS negotiation may take, connect included
CONTROL_TIMEOUT = 5.0  # seconds a control session may take: connect, authenticate, its requests
CHECK_TIMEOUT = SOCKS_TIMEOUT + CONTROL_TIMEOUT  # seconds one check_endpoint may take in total

BOOTSTRAP_RE = re.compile(r"PROGRESS=(\d+)(?:.*SUMMARY=\"([^\"]*)\")?")


def parse_bootstrap_phase(phase: str) -> tuple[int, str] | None:
    """Return (percent, summary) from tor's ``status/bootstrap-phase`` answer, or None when it has no PROGRESS."""
    match = BOOTSTRAP_RE.search(phase)
    return (int(match.group(1)), match.group(2) or "") if match else None


def socks_answers(host: str, port: int, timeout: float = SOCKS_TIMEOUT) -> bool:
    """Return True if a SOCKS5 server answers the method negotiation on *host*:*port* within *timeout* seconds."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"\x05\x02\x00\x02")  # SOCKS5, two methods: no auth, username/password
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            sock.settimeout(left)  # the socket's timeout is per call: what is left of the total
            reply = sock.recv(2)
            return len(reply) == 2 and reply[0] == 5 and reply[1] in (0, 2)
    except OSError:
        return False


def control_session(endpoint: TorEndpoint, timeout: float, work: Callable[[Any], T]) -> T:
    """Connect to *endpoint*'s control port, authenticate, return ``work(controller)``: all within *timeout* seconds.

    Raises :class:`TimeoutError` past the deadline (the connection is then closed, which ends stem's waiting), or
    whatever stem raises (``stem.SocketError``, authentication failures, ``ValueError`` for a bad address)."""
    from stem.control import Controller

    assert endpoint.control_port is not None
    address, port = endpoint.control_host or "127.0.0.1", endpoint.control_port
    lock = threading.Lock()
    opened: list[Any] = []  # the controller, once connected
    abandoned = threading.Event()

    def session() -> T:
        controller = Controller.from_port(address=address, port=port)
        with lock:
            if abandoned.is_set():  # connected after the deadline: nobody waits for it any more
                controller.close()
                raise TimeoutError("abandoned")
            opened.append(controller)
        try:
            controller.authenticate(password=endpoint.control_password)
            return work(controller)
        finally:
            controller.close()

    def cancel() -> None:
        with lock:
            abandoned.set()
        for controller in opened:
            controller.close()

    return run_within(timeout, session, f"tor #{endpoint.index} control port {address}:{port}", cancel)


def bootstrap_progress(endpoint: TorEndpoint, timeout: float = CONTROL_TIMEOUT) -> int | None:
    """Return tor's bootstrap percentage through its control port, or None when there is no control port.

    Raises :class:`TimeoutError` (no answer within *timeout* seconds in total), OSError-derived or stem errors when the
    control port is configured but cannot be used.
    """
    if endpoint.control_port is None:
        return None
    phase = control_session(endpoint, timeout, lambda controller: controller.get_info("status/bootstrap-phase"))
    parsed = parse_bootstrap_phase(phase)
    return parsed[0] if parsed else 0


@dataclass
class TorStatus:
    """What one check of one tor instance found."""

    index: int
    socks: str
    socks_ok: bool
    bootstrap: int | None  # None: no control port to ask
    error: str = ""

    @property
    def ready(self) -> bool:
        return self.socks_ok and (self.bootstrap is None or self.bootstrap >= 100)

    def describe(self) -> str:
        if self.ready:
            bootstrap = "" if self.bootstrap is None else f", bootstrapped {self.bootstrap}%"
            return f"tor #{self.index} ready (SOCKS {self.socks}{bootstrap})"
        if not self.socks_ok:
            return f"tor #{self.index}: nothing answers on SOCKS {self.socks}"
        if self.error:
            return f"tor #{self.index}: control port unusable: {self.error}"
        return f"tor #{self.index}: only {self.bootstrap}% bootstrapped"


def check_endpoint(endpoint: TorEndpoint, timeout: float = CHECK_TIMEOUT) -> TorStatus:
    """Check one tor instance within *timeout* seconds in total: SOCKS negotiation (at most :data:`SOCKS_TIMEOUT` of
    it) and, with a control port, the bootstrap percentage in what is left."""
    deadline = time.monotonic() + timeout
    socks_ok = socks_answers(endpoint.socks_host, endpoint.socks_port, min(SOCKS_TIMEOUT, timeout))
    status = TorStatus(endpoint.index, endpoint.socks_address, socks_ok, None)
    if endpoint.control_port is not None:
        try:
            status.bootstrap = bootstrap_progress(endpoint, deadline - time.monotonic())
        except Exception as exc:  # stem raises several unrelated types; all mean "cannot use control"
            status.bootstrap = 0
            status.error = f"{type(exc).__name__}: {exc}"
    return status


def request_new_identity(endpoint: TorEndpoint, timeout: float = CONTROL_TIMEOUT) -> bool:
    """Send NEWNYM if tor allows it now (it rate-limits); return whether it was sent. Raises :class:`TimeoutError`
    when the control port does not answer within *timeout* seconds in total."""
    if endpoint.control_port is None:
        return False
    from stem import Signal

    def newnym(controller: Any) -> bool:
        if not controller.is_newnym_available():
            logger.info("tor #%d: NEWNYM not available for %.0f s", endpoint.index, controller.get_newnym_wait())
            return False
        controller.signal(Signal.NEWNYM)
        return True

    return control_session(endpoint, timeout, newnym)
