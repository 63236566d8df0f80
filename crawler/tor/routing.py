"""Downloader middleware that routes every request through Tor, one circuit per site.

It runs before Scrapy's ``HttpProxyMiddleware`` and decides, for each request:

* whether it may be fetched at all: ``http``/``https`` only; valid v3 onions; clearnet hosts only with
  ``DARKCRAWL_ALLOW_CLEARNET``; never a local host, in any spelling (:mod:`crawler.hosts`: loopback, private,
  link-local addresses written in decimal, hex, octal or short forms, ``localhost`` names), never a URL with a control
  character or port 0;
* which tor instance carries it (a stable hash of the site over the pool) and with which SOCKS credentials (one circuit
  per site, see :mod:`crawler.tor.isolation`);
* when a site keeps failing (``DARKCRAWL_TOR_NEW_CIRCUIT_AFTER`` consecutive connection errors), to move that
  site onto a fresh circuit; when its fresh circuits keep failing too (``DARKCRAWL_TOR_NEWNYM_AFTER`` renewals in a
  row), to ask its tor for NEWNYM (rate-limited by tor: a refused one is counted, not retried);
* when a request failed because its tor is gone (SOCKS port closed: tor killed) or not usable yet (the health
  extension holds the crawl paused: tor restarting or bootstrapping), to put it back in the queue without spending
  one of Scrapy's retries (at most :data:`MAX_TOR_REQUEUES` times, then it is logged and left to the retry
  middleware, whose last failure the spider logs and counts) and tell the health extension, which pauses the crawl
  until Tor is back. :func:`tor_failure_action` is that decision.

Per-instance stats: ``darkcrawl/tor/<n>/circuit_errors``, ``/socks_down``, ``/requeued``, ``/requeues_exhausted``,
``/newnym``, ``/newnym_refused``.

Refusals raise ``IgnoreRequest`` and are counted in the stats under ``darkcrawl/refused/<reason>``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.identity import META_CIRCUIT, META_TOR_INSTANCE, META_TOR_REQUEUED, refusal_reason, site_key
from crawler.tor.config import TorConfig
from crawler.tor.endpoints import TorEndpoint
from crawler.tor.isolation import instance_index, socks_credentials

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.signalmanager import SignalManager
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

MAX_TOR_REQUEUES = 50  # times one request goes back to the queue because its tor was down

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
# Errors a dying tor causes too, though they are not the circuit's: a response cut off half-way.
TOR_LOSS_NAMES = frozenset({"ResponseDataLossError", "ConnectionLost", "ConnectionDone"})


def tor_failure_action(error_name: str, socks_open: bool, tor_paused: bool, requeued: int) -> str:
    """What to do with a request that failed with *error_name*: ``"requeue"`` (its tor was gone or not usable yet:
    not the site's fault), ``"exhausted"`` (the same, but it went back to the queue :data:`MAX_TOR_REQUEUES` times
    already: let the retry middleware decide), ``"circuit_error"`` (tor is fine, the site or its circuit is not) or
    ``"none"`` (an error this middleware has nothing to say about)."""
    if error_name not in CIRCUIT_ERROR_NAMES and error_name not in TOR_LOSS_NAMES:
        return "none"
    if not socks_open or tor_paused:
        return "requeue" if requeued < MAX_TOR_REQUEUES else "exhausted"
    return "circuit_error" if error_name in CIRCUIT_ERROR_NAMES else "none"


class TorRoutingMiddleware:
    """Assign each request its Tor instance and isolated circuit; refuse what must not be fetched."""

    def __init__(
        self,
        endpoints: list[TorEndpoint],
        stats: StatsCollector,
        allow_clearnet: bool,
        new_circuit_after: int,
        isolation_secret: str,
        newnym_after: int = 0,
        signals: SignalManager | None = None,
    ):
        self.endpoints = endpoints
        self.stats = stats
        self.allow_clearnet = allow_clearnet
        self.new_circuit_after = new_circuit_after
        self.isolation_secret = isolation_secret
        self.consecutive_failures: defaultdict[str, int] = defaultdict(int)
        self.circuit_generation: defaultdict[str, int] = defaultdict(int)
        self.newnym_after = newnym_after
        self.signals = signals
        self.failed_renewals: defaultdict[str, int] = defaultdict(int)
        self.tor_paused = False  # the health extension holds the crawl paused: no tor is trusted until it resumes
        if signals is not None:
            from crawler.tor.health import tor_paused, tor_resumed

            signals.connect(self._paused, signal=tor_paused)
            signals.connect(self._resumed, signal=tor_resumed)

    def _paused(self) -> None:
        self.tor_paused = True

    def _resumed(self) -> None:
        self.tor_paused = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TorRoutingMiddleware:
        endpoints = list(TorConfig.from_settings(crawler.settings).endpoints)
        if not endpoints:
            raise NotConfigured("no Tor SOCKS port configured (DARKCRAWL_TOR_SOCKS)")
        assert crawler.stats is not None
        return cls(
            endpoints,
            crawler.stats,
            allow_clearnet=crawler.settings.getbool("DARKCRAWL_ALLOW_CLEARNET"),
            new_circuit_after=crawler.settings.getint("DARKCRAWL_TOR_NEW_CIRCUIT_AFTER"),
            isolation_secret=crawler.settings.get("DARKCRAWL_TOR_ISOLATION_SECRET"),
            newnym_after=crawler.settings.getint("DARKCRAWL_TOR_NEWNYM_AFTER"),
            signals=crawler.signals,
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
        request.meta[META_TOR_INSTANCE] = endpoint.index
        request.meta[META_CIRCUIT] = f"{endpoint.index}/{username}/{password}"

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        site = site_key(urlsplit(request.url).hostname or "")
        self.consecutive_failures.pop(site, None)
        self.failed_renewals.pop(site, None)
        return response

    async def process_exception(
        self, request: Request, exception: BaseException, spider: Spider | None = None
    ) -> Any:
        name = type(exception).__name__
        if name not in CIRCUIT_ERROR_NAMES and name not in TOR_LOSS_NAMES:
            return None
        index = int(request.meta.get(META_TOR_INSTANCE, 0))
        endpoint = self.endpoints[index] if 0 <= index < len(self.endpoints) else self.endpoints[0]
        socks_open = await socks_port_open(endpoint)
        requeued = int(request.meta.get(META_TOR_REQUEUED, 0))
        action = tor_failure_action(name, socks_open, self.tor_paused, requeued)
        if action in ("requeue", "exhausted"):
            return self._tor_down(request, index, socks_open, requeued if action == "requeue" else None, name)
        if action == "none":
            return None
        site = site_key(urlsplit(request.url).hostname or "")
        self.stats.inc_value(f"darkcrawl/tor/{index}/circuit_errors")
        self.consecutive_failures[site] += 1
        if self.new_circuit_after and self.consecutive_failures[site] >= self.new_circuit_after:
            self.consecutive_failures[site] = 0
            self.circuit_generation[site] += 1
            self.failed_renewals[site] += 1
            self.stats.inc_value("darkcrawl/tor/new_circuits")
            logger.info(
                "%s failed %d times in a row (%s): moving it to a new circuit",
                site,
                self.new_circuit_after,
                type(exception).__name__,
            )
            if self.newnym_after and self.failed_renewals[site] >= self.newnym_after:
                self.failed_renewals[site] = 0
                self._new_identity(endpoint, site)
        return None

    def _tor_down(
        self, request: Request, index: int, socks_open: bool, requeued: int | None, error: str
    ) -> Request | None:
        """The request failed because its tor is gone or not usable yet, not because of the site: make sure the
        crawl is paused, and queue the request again (a copy: the scheduler takes it back while paused), unless
        *requeued* is None (it went back :data:`MAX_TOR_REQUEUES` times already)."""
        if not socks_open:
            self.stats.inc_value(f"darkcrawl/tor/{index}/socks_down")
            if self.signals is not None:
                from crawler.tor.health import tor_suspect

                self.signals.send_catch_log(signal=tor_suspect, endpoint_index=index)
        if requeued is None:
            self.stats.inc_value(f"darkcrawl/tor/{index}/requeues_exhausted")
            logger.warning("%s failed (%s) with tor #%d unusable, after going back to the queue %d times "
                           "(MAX_TOR_REQUEUES): left to the retry middleware", request.url, error, index,
                           MAX_TOR_REQUEUES)
            return None
        self.stats.inc_value(f"darkcrawl/tor/{index}/requeued")
        logger.debug("%s failed (%s) with tor #%d unusable: queued again", request.url, error, index)
        again = request.replace(dont_filter=True)
        again.meta[META_TOR_REQUEUED] = requeued + 1
        return again

    def _new_identity(self, endpoint: TorEndpoint, site: str) -> None:
        """Ask the site's tor for NEWNYM in a thread (stem blocks); count whether tor accepted it."""
        from twisted.internet import threads

        from crawler.tor.control import request_new_identity

        def counted(sent: bool) -> None:
            key = "newnym" if sent else "newnym_refused"
            self.stats.inc_value(f"darkcrawl/tor/{endpoint.index}/{key}")
            logger.info("%s: its fresh circuits keep failing; NEWNYM on tor #%d %s", site, endpoint.index,
                        "sent" if sent else "refused (rate limit or no control port)")

        deferred = threads.deferToThread(request_new_identity, endpoint)
        deferred.addCallback(counted)
        deferred.addErrback(lambda failure: counted(False))


async def socks_port_open(endpoint: TorEndpoint, timeout: float = 3.0) -> bool:
    """Whether anything accepts a connection on the tor instance's SOCKS port (without speaking SOCKS)."""
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(endpoint.socks_host, endpoint.socks_port), timeout
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True
