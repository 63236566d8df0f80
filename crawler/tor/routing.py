"""Downloader middleware that routes every request through Tor, one circuit per site.

It runs before Scrapy's ``HttpProxyMiddleware`` and decides, for each request:

* whether it may be fetched at all: ``http``/``https`` only; valid v3 onions; clearnet hosts only with
  ``DARKCRAWL_ALLOW_CLEARNET`` (and never loopback, private or link-local IP literals);
* which tor instance carries it (a stable hash of the site over the pool) and with which SOCKS credentials (one circuit
  per site, see :mod:`crawler.tor.isolation`);
* when a site keeps failing (``DARKCRAWL_TOR_NEW_CIRCUIT_AFTER`` consecutive connection errors), to move that
  site onto a fresh circuit.

Refusals raise ``IgnoreRequest`` and are counted in the stats under ``darkcrawl/refused/<reason>``.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.tor.endpoints import TorEndpoint, endpoints_from_settings
from crawler.tor.isolation import instance_index, site_key, socks_credentials
from pipelines.extract.onion import is_valid_onion_v3

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Errors that mean "the circuit or the service did not answer", as opposed to an HTTP answer we did not like.
CIRCUIT_ERROR_NAMES = frozenset(
    {
        "DownloadConnectionRefusedError",
        "DownloadTimeoutError",
        "DownloadFailedError",
        "TimeoutError",
        "ConnectionRefusedError",
        "ResponseNeverReceived",
    }
)


def refusal_reason(url: str, allow_clearnet: bool) -> str | None:
    """Return why *url* must not be fetched (a short stats key), or None if it may be fetched through Tor."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "bad_url"
    if parts.scheme not in ("http", "https"):
        return "scheme"
    if not host:
        return "bad_url"
    if host.endswith(".onion"):
        return None if is_valid_onion_v3(host) else "invalid_onion"
    if not allow_clearnet:
        return "clearnet"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None if host != "localhost" else "local_address"
    if address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified:
        return "local_address"
    return None


class TorRoutingMiddleware:
    """Assign each request its Tor instance and isolated circuit; refuse what must not be fetched."""

    def __init__(
        self,
        endpoints: list[TorEndpoint],
        stats: StatsCollector,
        allow_clearnet: bool,
        new_circuit_after: int,
        isolation_secret: str,
    ):
        self.endpoints = endpoints
        self.stats = stats
        self.allow_clearnet = allow_clearnet
        self.new_circuit_after = new_circuit_after
        self.isolation_secret = isolation_secret
        self.consecutive_failures: defaultdict[str, int] = defaultdict(int)
        self.circuit_generation: defaultdict[str, int] = defaultdict(int)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TorRoutingMiddleware:
        endpoints = endpoints_from_settings(crawler.settings)
        if not endpoints:
            raise NotConfigured("no Tor SOCKS port configured (DARKCRAWL_TOR_SOCKS)")
        assert crawler.stats is not None
        return cls(
            endpoints,
            crawler.stats,
            allow_clearnet=crawler.settings.getbool("DARKCRAWL_ALLOW_CLEARNET"),
            new_circuit_after=crawler.settings.getint("DARKCRAWL_TOR_NEW_CIRCUIT_AFTER"),
            isolation_secret=crawler.settings.get("DARKCRAWL_TOR_ISOLATION_SECRET", ""),
        )

    def endpoint_for(self, site: str) -> TorEndpoint:
        return self.endpoints[instance_index(site, len(self.endpoints))]

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        reason = refusal_reason(request.url, self.allow_clearnet)
        if reason is not None:
            self.stats.inc_value(f"darkcrawl/refused/{reason}")
            logger.debug("refused %s: %s", request.url, reason)
            raise IgnoreRequest(f"darkcrawl refused {request.url}: {reason}")
        site = site_key(urlsplit(request.url).hostname or "")
        endpoint = self.endpoint_for(site)
        username, password = socks_credentials(site, self.circuit_generation[site], self.isolation_secret)
        # Whatever the spider put there is replaced: the proxy is decided here and nowhere else.
        request.meta["proxy"] = endpoint.proxy_url(username, password)
        request.meta["darkcrawl_tor_instance"] = endpoint.index
        request.meta["darkcrawl_circuit"] = f"{endpoint.index}/{username}/{password}"

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        site = site_key(urlsplit(request.url).hostname or "")
        self.consecutive_failures.pop(site, None)
        return response

    def process_exception(self, request: Request, exception: BaseException, spider: Spider | None = None) -> Any:
        if type(exception).__name__ not in CIRCUIT_ERROR_NAMES:
            return None
        site = site_key(urlsplit(request.url).hostname or "")
        index = request.meta.get("darkcrawl_tor_instance", 0)
        self.stats.inc_value(f"darkcrawl/tor/{index}/circuit_errors")
        self.consecutive_failures[site] += 1
        if self.new_circuit_after and self.consecutive_failures[site] >= self.new_circuit_after:
            self.consecutive_failures[site] = 0
            self.circuit_generation[site] += 1
            self.stats.inc_value("darkcrawl/tor/new_circuits")
            logger.info(
                "%s failed %d times in a row (%s): moving it to a new circuit",
                site,
                self.new_circuit_after,
                type(exception).__name__,
            )
        return None
