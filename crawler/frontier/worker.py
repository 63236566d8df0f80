"""Scrapy extension of a distributed worker: heartbeat, re-queue of dead workers' requests, and when to stop.

* Every ``DARKCRAWL_REDIS_LEASE_TIMEOUT / 3`` seconds it renews this worker's heartbeat and re-queues the leases of
  workers whose heartbeat expired (a worker killed with SIGKILL, a host that went away).
* When the engine is idle it keeps the worker alive while the shared frontier has work anywhere (queued or leased by
  another worker, who may still add links). Once nothing is queued or leased for ``DARKCRAWL_WORKER_IDLE_EXIT``
  seconds, the worker stops; 0 means it waits for new seeds forever (a service).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

from crawler.frontier.scheduler import FrontierScheduler

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class FrontierWorkerExtension:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.get("DARKCRAWL_REDIS_URL"):
            raise NotConfigured  # single-host crawl: no shared frontier (no message: nothing to warn about)
        self.crawler = crawler
        self.idle_exit = settings.getfloat("DARKCRAWL_WORKER_IDLE_EXIT")
        self.interval = max(settings.getfloat("DARKCRAWL_REDIS_LEASE_TIMEOUT") / 3, 0.5)
        self.finished_since: float | None = None
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierWorkerExtension:
        return cls(crawler)

    def _scheduler(self) -> FrontierScheduler | None:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        return scheduler if isinstance(scheduler, FrontierScheduler) else None

    def spider_opened(self, spider: Spider) -> None:
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(self.interval, now=True)

    def spider_closed(self, spider: Spider) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def tick(self) -> None:
        scheduler = self._scheduler()
        if scheduler is None:
            return
        try:
            scheduler.frontier.heartbeat()
            moved = scheduler.frontier.reap()
        except Exception as exc:  # Redis away for a moment: the next tick tries again
            logger.warning("could not renew this worker's heartbeat in Redis: %s", exc)
            return
        if moved:
            logger.warning("re-queued %d requests of a worker that stopped answering", moved)
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("darkcrawl/frontier/requeued", moved)

    def spider_idle(self, spider: Spider) -> None:
        scheduler = self._scheduler()
        if scheduler is None:
            return
        self.tick()
        if not scheduler.frontier.finished():
            self.finished_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.finished_since is None:
            self.finished_since = now
        if self.idle_exit <= 0 or now - self.finished_since < self.idle_exit:
            raise DontCloseSpider
        logger.info("the shared frontier has been empty for %.0fs: this worker stops", now - self.finished_since)
