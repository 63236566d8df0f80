"""Which tors a crawl talks to, read once from the settings: :class:`TorConfig` (``TorConfig.from_settings``).

The one parser of ``DARKCRAWL_TOR_SOCKS``, ``DARKCRAWL_TOR_CONTROL`` (with ``DARKCRAWL_TOR_CONTROL_PASSWORD``) and
``DARKCRAWL_RENDER_SOCKS``, so every component (CLI checks, routing, download handler, health, browser) validates them
the same way and fails with the same one-line :class:`~crawler.errors.UsageError`. The settings are documented in
the README's table, their use in docs/crawling.md; the endpoint rules (pool lists, loopback only) in
:mod:`crawler.tor.endpoints`.

Offers: :class:`TorConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.settings import BaseSettings

from crawler.errors import UsageError
from crawler.tor.endpoints import TorEndpoint, is_loopback, parse_hostport

HostPort = tuple[str, int]


def _items(settings: BaseSettings, name: str) -> list[str]:
    """The non-empty entries of a comma-separated setting."""
    return [item for item in (settings.get(name) or "").split(",") if item.strip()]


@dataclass(frozen=True)
class TorConfig:
    """The Tor endpoints of a crawl: empty ``endpoints`` means darkcrawl must launch its own tor."""

    endpoints: tuple[TorEndpoint, ...] = ()
    # The SOCKS ports browser contexts use: DARKCRAWL_RENDER_SOCKS, else the crawl's own; () with rendering off.
    render_socks: tuple[HostPort, ...] = ()
    allow_remote_socks: bool = False

    @property
    def socks_addresses(self) -> tuple[HostPort, ...]:
        """(host, port) of every SOCKS endpoint, in pool order."""
        return tuple((endpoint.socks_host, endpoint.socks_port) for endpoint in self.endpoints)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> TorConfig:
        """Read and check the settings; raises :class:`UsageError` naming the setting and the bad value."""
        allow_remote = settings.getbool("DARKCRAWL_TOR_ALLOW_REMOTE_SOCKS")
        endpoints = tuple(_endpoints(settings, allow_remote))
        render_socks: tuple[HostPort, ...] = ()
        if settings.getbool("DARKCRAWL_RENDER"):
            render_socks = tuple(_render_socks(settings, allow_remote))
        return cls(endpoints=endpoints, render_socks=render_socks, allow_remote_socks=allow_remote)


def _endpoints(settings: BaseSettings, allow_remote: bool) -> list[TorEndpoint]:
    socks_items = _items(settings, "DARKCRAWL_TOR_SOCKS")
    control_items = _items(settings, "DARKCRAWL_TOR_CONTROL")
    if control_items and len(control_items) != len(socks_items):
        raise UsageError(
            "DARKCRAWL_TOR_CONTROL must list one control port per DARKCRAWL_TOR_SOCKS entry "
            f"({len(control_items)} control, {len(socks_items)} SOCKS)"
        )
    password = settings.get("DARKCRAWL_TOR_CONTROL_PASSWORD") or None
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


def _render_socks(settings: BaseSettings, allow_remote: bool) -> list[HostPort]:
    """``DARKCRAWL_RENDER_SOCKS``, else the crawl's own SOCKS ports (already checked by :func:`_endpoints`)."""
    what = "DARKCRAWL_RENDER_SOCKS"
    items = _items(settings, what)
    if not items:
        what = "DARKCRAWL_TOR_SOCKS"
        items = _items(settings, what)
    addresses = [parse_hostport(item, what) for item in items]
    if not allow_remote:
        for host, _port in addresses:
            if not is_loopback(host):
                raise UsageError(
                    f"{what}: {host} is not a loopback address; the browser's hostnames would cross the network "
                    "before reaching Tor. Run tor locally, or set DARKCRAWL_TOR_ALLOW_REMOTE_SOCKS=1 if you mean it"
                )
    return addresses
