"""The Tor instances a crawl may use: their SOCKS and control endpoints (read from the settings by
:class:`crawler.tor.config.TorConfig`).

``DARKCRAWL_TOR_SOCKS`` and ``DARKCRAWL_TOR_CONTROL`` take one ``host:port`` or a comma-separated list (a pool); the
n-th control endpoint belongs to the n-th SOCKS endpoint. Only loopback SOCKS hosts are accepted unless
``DARKCRAWL_TOR_ALLOW_REMOTE_SOCKS`` is set: a SOCKS port on another host would carry hostnames over the network.

Offers: :class:`TorEndpoint`, :func:`parse_hostport`, :func:`is_loopback`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from crawler.errors import UsageError


@dataclass(frozen=True)
class TorEndpoint:
    """One tor process as the crawler sees it."""

    index: int
    socks_host: str
    socks_port: int
    control_host: str | None = None
    control_port: int | None = None
    control_password: str | None = None  # None: cookie authentication

    @property
    def socks_address(self) -> str:
        return f"{self.socks_host}:{self.socks_port}"

    def proxy_url(self, username: str, password: str) -> str:
        """The ``socks5h://`` proxy URL (hostnames resolved by Tor) carrying the isolation credentials."""
        return f"socks5h://{username}:{password}@{self.socks_host}:{self.socks_port}"


def parse_hostport(value: str, what: str) -> tuple[str, int]:
    """Parse ``host:port`` (or a bare port, meaning 127.0.0.1). Raises :class:`UsageError` naming *what*."""
    value = value.strip()
    host, _, port_text = value.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise UsageError(f"{what}: {value!r} is not host:port (example: 127.0.0.1:9050)") from None
    if not 0 < port < 65536:
        raise UsageError(f"{what}: port {port} is out of range in {value!r}")
    return host, port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
