"""The Tor instances a crawl may use: their SOCKS and control endpoints, parsed from settings.

``DARKCRAWL_TOR_SOCKS`` and ``DARKCRAWL_TOR_CONTROL`` take one ``host:port`` or a comma-separated list (a pool); the
n-th control endpoint belongs to the n-th SOCKS endpoint. Only loopback SOCKS hosts are accepted unless
``DARKCRAWL_TOR_ALLOW_REMOTE_SOCKS`` is set: a SOCKS port on another host would carry hostnames over the network.

Offers: :class:`TorEndpoint`, :func:`parse_hostport`, :func:`endpoints_from_settings`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from scrapy.settings import BaseSettings

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


def endpoints_from_settings(settings: BaseSettings) -> list[TorEndpoint]:
    """Return the configured Tor endpoints; an empty list means darkcrawl must launch its own tor."""
    socks_items = [item for item in settings.get("DARKCRAWL_TOR_SOCKS", "").split(",") if item.strip()]
    control_items = [item for item in settings.get("DARKCRAWL_TOR_CONTROL", "").split(",") if item.strip()]
    if control_items and len(control_items) != len(socks_items):
        raise UsageError(
            "DARKCRAWL_TOR_CONTROL must list one control port per DARKCRAWL_TOR_SOCKS entry "
            f"({len(control_items)} control, {len(socks_items)} SOCKS)"
        )
    password = settings.get("DARKCRAWL_TOR_CONTROL_PASSWORD") or None
    allow_remote = settings.getbool("DARKCRAWL_TOR_ALLOW_REMOTE_SOCKS")
    endpoints = []
    for index, item in enumerate(socks_items):
        socks_host, socks_port = parse_hostport(item, "DARKCRAWL_TOR_SOCKS")
        if not allow_remote and not is_loopback(socks_host):
            raise UsageError(
                f"DARKCRAWL_TOR_SOCKS: {socks_host} is not a loopback address; hostnames would cross the network "
                "before reaching Tor. Run tor locally, or set DARKCRAWL_TOR_ALLOW_REMOTE_SOCKS=1 if you mean it"
            )
        control_host = control_port = None
        if control_items:
            control_host, control_port = parse_hostport(control_items[index], "DARKCRAWL_TOR_CONTROL")
        endpoints.append(TorEndpoint(index, socks_host, socks_port, control_host, control_port, password))
    return endpoints
