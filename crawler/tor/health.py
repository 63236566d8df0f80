"""Scrapy extension that keeps a crawl fail-closed on Tor's health.

At engine start and every ``DARKCRAWL_TOR_CHECK_INTERVAL`` seconds it checks each tor instance (SOCKS answering,
bootstrap at 100% when a control port is known). When none is usable the spider is closed with the reason
``tor_unavailable``: requests then stop being scheduled rather than pile up as errors, and the CLI reports the cause.
The check runs in a thread: stem and plain sockets block.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task, threads

from crawler.tor.control import TorStatus, check_endpoint
from crawler.tor.endpoints import TorEndpoint, endpoints_from_settings

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

CLOSE_REASON = "tor_unavailable"


class TorHealthExtension:
    def __init__(self, crawler: Crawler, endpoints: list[TorEndpoint], interval: float):
        self.crawler = crawler
        self.endpoints = endpoints
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        self.last_statuses: list[TorStatus] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TorHealthExtension:
        endpoints = endpoints_from_settings(crawler.settings)
        if not endpoints:
            raise NotConfigured("no Tor endpoints")
        extension = cls(crawler, endpoints, crawler.settings.getfloat("DARKCRAWL_TOR_CHECK_INTERVAL"))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        if self.interval > 0:
            self.loop = task.LoopingCall(self.check)
            self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Any) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def check(self) -> Any:
        deferred = threads.deferToThread(lambda: [check_endpoint(endpoint) for endpoint in self.endpoints])
        deferred.addCallback(self._evaluate)
        return deferred

    def _evaluate(self, statuses: list[TorStatus]) -> None:
        self.last_statuses = statuses
        stats = self.crawler.stats
        assert stats is not None
        for status in statuses:
            if not status.ready:
                stats.inc_value(f"darkcrawl/tor/{status.index}/health_failures")
                logger.warning("%s", status.describe())
        if statuses and not any(status.ready for status in statuses):
            stats.set_value("darkcrawl/tor/unavailable", "; ".join(status.describe() for status in statuses))
            logger.error("no usable tor instance: stopping the crawl (nothing is ever fetched without Tor)")
            engine = self.crawler.engine
            if engine is not None and engine.spider is not None:
                deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
