"""The download handler of every darkcrawl crawl: Scrapy's httpx handler, made fail-closed on Tor.

Why httpx: Scrapy's default HTTP/1.1 handler has no SOCKS support; its httpx handler (Scrapy >= 2.17) speaks SOCKS5
with remote hostname resolution (``socks5h``) and sends the SOCKS credentials that Tor uses for stream isolation. An
HTTP-to-SOCKS bridge (Privoxy, as older crawlers used) would add a hop and a process to watch. The handler is marked
experimental by Scrapy, so Scrapy is pinned and ``tests/integration`` exercise it against the real lab.

Fail-closed: a request reaches the network only through a ``socks5h://`` proxy that is one of the crawl's Tor SOCKS
ports (``DARKCRAWL_TOR_SOCKS``, filled in by the CLI before the crawl starts). A request without one is refused here,
at the last step before a socket is opened, whatever middleware or spider code built it: there is no direct path.
The same last step refuses the requests of a site the content policy stopped (:mod:`crawler.safety.middleware`) that
were already queued in the downloader.

Total time: httpx's timeout (``DOWNLOAD_TIMEOUT``) applies to each read, so a server trickling one byte at a time
would hold a download slot for ever; the whole response is also bounded by ``DARKCRAWL_RESPONSE_MAX_TIME`` (request
meta ``darkcrawl_response_max_time``), past which it fails with ``ResponseTooSlowError`` (counted as hostile).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.core.downloader.handlers._httpx import HttpxDownloadHandler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.fetch.limits import ResponseTooSlowError
from crawler.identity import META_RESPONSE_MAX_TIME, site_key
from crawler.safety.middleware import site_stopped
from crawler.tor.config import TorConfig

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class NotThroughTorError(Exception):
    """A request was about to leave without going through one of the crawl's Tor SOCKS ports; it was refused."""


class TorOnlyDownloadHandler(HttpxDownloadHandler):
    """Scrapy's httpx handler that only ever connects to the crawl's Tor SOCKS ports."""

    # Scrapy warns at every crawl's start that its httpx handler is experimental. darkcrawl answers that warning once,
    # for good: Scrapy is pinned to a minor version and the integration tests crawl the real lab through this handler,
    # so an operator is not told, crawl after crawl, of a risk the project has already taken care of.
    experimental = False

    def __init__(self, crawler: Crawler):
        tor = TorConfig.from_settings(crawler.settings)
        if not tor.endpoints:
            raise NotConfigured(
                "no Tor SOCKS port configured (DARKCRAWL_TOR_SOCKS): darkcrawl never downloads without Tor"
            )
        self._tor_socks = set(tor.socks_addresses)
        self._max_time = crawler.settings.getfloat("DARKCRAWL_RESPONSE_MAX_TIME")
        self._stopped_sites: set[str] = set()
        self._stats = crawler.stats
        crawler.signals.connect(self._site_stopped, signal=site_stopped)
        super().__init__(crawler)
        logger.info("downloads go through Tor only (%s): SOCKS %s", type(self).__name__,
                    ", ".join(f"{host}:{port}" for host, port in sorted(self._tor_socks)))

    def _site_stopped(self, site: str) -> None:
        self._stopped_sites.add(site)

    async def download_request(self, request: Request) -> Response:
        max_time = float(request.meta.get(META_RESPONSE_MAX_TIME, self._max_time))
        if max_time <= 0:
            return await super().download_request(request)
        try:
            return await asyncio.wait_for(super().download_request(request), max_time)
        except TimeoutError:
            raise ResponseTooSlowError(
                f"the response took longer than DARKCRAWL_RESPONSE_MAX_TIME={max_time:g}s in all"
            ) from None

    def _check_tor_proxy(self, request: Request, proxy_url: str | None) -> None:
        if not proxy_url:
            raise NotThroughTorError(
                f"refused {request.url}: no Tor proxy assigned (darkcrawl never connects directly)"
            )
        parts = urlsplit(proxy_url)
        if parts.scheme != "socks5h":
            raise NotThroughTorError(
                f"refused {request.url}: proxy scheme {parts.scheme!r} is not socks5h (hostnames must resolve in Tor)"
            )
        if (parts.hostname, parts.port) not in self._tor_socks:
            raise NotThroughTorError(f"refused {request.url}: {parts.hostname}:{parts.port} is not a Tor SOCKS port")

    def _make_request(self, request: Request, timeout: float) -> Any:
        self._check_tor_proxy(request, self._extract_proxy_url_with_creds(request))
        if self._stopped_sites and site_key(urlsplit(request.url).hostname or "") in self._stopped_sites:
            if self._stats is not None:
                self._stats.inc_value("darkcrawl/refused/high_risk_site")
            raise IgnoreRequest(f"not requesting {request.url}: its site was stopped by the content policy")
        return super()._make_request(request, timeout)

    def _get_client(self, proxy_url: str | None) -> Any:
        if not proxy_url:  # belt and braces: the direct client is never handed out
            raise NotThroughTorError("refused: direct connection requested")
        return super()._get_client(proxy_url)
