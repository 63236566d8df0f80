"""Talking to a running tor: is its SOCKS port answering, how far is it bootstrapped, new circuits on request.

All functions here block (plain sockets, stem's synchronous controller): the crawl calls them from a thread, the CLI
calls them before the crawl starts.

Offers: :func:`socks_answers`, :func:`parse_bootstrap_phase`, :func:`bootstrap_progress`, :func:`check_endpoint`,
:class:`TorStatus`, :func:`request_new_identity`.
"""

from __future__ import annotations

import logging
import re
import socket
from dataclasses import dataclass
from typing import Any

from crawler.tor.endpoints import TorEndpoint

logger = logging.getLogger(__name__)

BOOTSTRAP_RE = re.compile(r"PROGRESS=(\d+)(?:.*SUMMARY=\"([^\"]*)\")?")


def parse_bootstrap_phase(phase: str) -> tuple[int, str] | None:
    """Return (percent, summary) from tor's ``status/bootstrap-phase`` answer, or None when it has no PROGRESS."""
    match = BOOTSTRAP_RE.search(phase)
    return (int(match.group(1)), match.group(2) or "") if match else None


def socks_answers(host: str, port: int, timeout: float = 3.0) -> bool:
    """Return True if a SOCKS5 server answers the method negotiation on *host*:*port*."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"\x05\x02\x00\x02")  # SOCKS5, two methods: no auth, username/password
            reply = sock.recv(2)
            return len(reply) == 2 and reply[0] == 5 and reply[1] in (0, 2)
    except OSError:
        return False


def _controller(endpoint: TorEndpoint, timeout: float) -> Any:
    from stem.control import Controller

    assert endpoint.control_port is not None
    controller = Controller.from_port(address=endpoint.control_host or "127.0.0.1", port=endpoint.control_port)
    controller.authenticate(password=endpoint.control_password)
    return controller


def bootstrap_progress(endpoint: TorEndpoint, timeout: float = 5.0) -> int | None:
    """Return tor's bootstrap percentage through its control port, or None when there is no control port.

    Raises OSError-derived or stem errors when the control port is configured but cannot be used.
    """
    if endpoint.control_port is None:
        return None
    with _controller(endpoint, timeout) as controller:
        phase = controller.get_info("status/bootstrap-phase")
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


def check_endpoint(endpoint: TorEndpoint) -> TorStatus:
    """Check one tor instance: SOCKS negotiation and, with a control port, the bootstrap percentage."""
    status = TorStatus(
        endpoint.index, endpoint.socks_address, socks_answers(endpoint.socks_host, endpoint.socks_port), None
    )
    if endpoint.control_port is not None:
        try:
            status.bootstrap = bootstrap_progress(endpoint)
        except Exception as exc:  # stem raises several unrelated types; all mean "cannot use control"
            status.bootstrap = 0
            status.error = f"{type(exc).__name__}: {exc}"
    return status


def request_new_identity(endpoint: TorEndpoint) -> bool:
    """Send NEWNYM if tor allows it now (it rate-limits); return whether it was sent."""
    if endpoint.control_port is None:
        return False
    from stem import Signal

    with _controller(endpoint, 5.0) as controller:
        if not controller.is_newnym_available():
            logger.info("tor #%d: NEWNYM not available for %.0f s", endpoint.index, controller.get_newnym_wait())
            return False
        controller.signal(Signal.NEWNYM)
        return True
