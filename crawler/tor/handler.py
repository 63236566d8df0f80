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

Cost per request: httpcore asks every idle pooled connection whether the server closed it, each time a request
enters or leaves the pool; through anyio each question rebuilt the socket's attribute table (a ``getpeername`` system
call), about a sixth of the crawl process's CPU at concurrency 16. :class:`SocketCachingBackend` keeps each
connection's socket at hand instead; the question itself (one ``poll``) is unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import select
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from httpcore import AsyncNetworkBackend, AsyncNetworkStream
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


def socket_readable(sock: Any) -> bool:
    """Whether *sock* has something to read without blocking: on an idle keep-alive connection, that the server
    closed it. A socket already closed (no descriptor) counts as readable, as httpcore counts it."""
    descriptor = -1 if sock is None else sock.fileno()
    if descriptor < 0:
        return True
    poller = select.poll()
    poller.register(descriptor, select.POLLIN)
    return bool(poller.poll(0))


class SocketCachingStream(AsyncNetworkStream):
    """An httpcore network stream that answers ``is_readable`` from the socket it looked up once.

    Reads, writes and closing are the wrapped stream's own methods (no extra call per read); every other piece of
    information is asked of the wrapped stream as before."""

    def __init__(self, stream: AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket = stream.get_extra_info("socket")
        self.read = stream.read  # type: ignore[method-assign]
        self.write = stream.write  # type: ignore[method-assign]
        self.aclose = stream.aclose  # type: ignore[method-assign]

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> AsyncNetworkStream:
        return SocketCachingStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # what httpcore asks of every idle connection, each time the pool changes
            return socket_readable(self._socket)
        if info == "socket":
            return self._socket
        return self._stream.get_extra_info(info)


class SocketCachingBackend(AsyncNetworkBackend):
    """The httpcore network backend of darkcrawl's clients: httpcore's own, with its streams wrapped in
    :class:`SocketCachingStream`."""

    def __init__(self, backend: AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> AsyncNetworkStream:
        stream = await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return SocketCachingStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> AsyncNetworkStream:  # pragma: no cover - darkcrawl connects to Tor over TCP only
        return SocketCachingStream(
            await self._backend.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)
        )

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def cache_sockets(client: Any) -> bool:
    """Put :class:`SocketCachingBackend` under *client*'s connection pool (an ``httpx.AsyncClient`` as Scrapy's
    handler builds it). False, the client left as it was, when httpx's or httpcore's insides are not the expected
    ones (a version the pins did not foresee: slower, never wrong)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, AsyncNetworkBackend):
        return False
    if not isinstance(backend, SocketCachingBackend):
        pool._network_backend = SocketCachingBackend(backend)  # type: ignore[union-attr]
    return True


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

    def _make_client(self, proxy_url: str | None = None) -> Any:
        client = super()._make_client(proxy_url)
        if not cache_sockets(client):
            logger.debug("httpx client without the expected connection pool: sockets not cached")
        return client
