"""Scrapy extension that prints one progress line every ``DARKCRAWL_PROGRESS_INTERVAL`` seconds while a crawl runs.

The line is for people watching a terminal or a journal: pages fetched, errors, items indexed (or spooled), and the
rate over the last interval. ``darkcrawl crawl`` prints the summary at the end from the same stats.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger("darkcrawl.progress")


def error_count(stats: dict[str, Any]) -> int:
    """Errors worth a person's attention: failed downloads (after retries) and failed indexing."""
    return sum(
        value
        for key, value in stats.items()
        if isinstance(value, int) and (key.startswith("darkcrawl/errors/") or key == "darkcrawl/index/failed")
    )


def progress_line(stats: dict[str, Any], elapsed: float, rate: float) -> str:
    pages = stats.get("darkcrawl/pages", 0)
    indexed = stats.get("darkcrawl/index/indexed", 0)
    spooled = stats.get("darkcrawl/index/spooled", 0)
    queued = stats.get("scheduler/enqueued", 0) - stats.get("scheduler/dequeued", 0)
    line = (
        f"progress: {pages} pages, {error_count(stats)} errors, {indexed} indexed"
        + (f", {spooled} spooled" if spooled else "")
        + f", {max(queued, 0)} queued, {rate * 60:.0f} pages/min, {elapsed:.0f}s elapsed"
    )
    return line


class ProgressExtension:
    def __init__(self, stats: StatsCollector, interval: float):
        self.stats = stats
        self.interval = interval
        self.loop: task.LoopingCall | None = None
        self.started = time.monotonic()
        self.last_pages = 0
        self.last_time = self.started

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        interval = crawler.settings.getfloat("DARKCRAWL_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("progress lines are off")
        assert crawler.stats is not None
        extension = cls(crawler.stats, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.started = self.last_time = time.monotonic()
        self.loop = task.LoopingCall(self.log)
        self.loop.start(self.interval, now=False)

    def log(self) -> None:
        now = time.monotonic()
        stats = self.stats.get_stats()
        pages = stats.get("darkcrawl/pages", 0)
        rate = (pages - self.last_pages) / max(now - self.last_time, 1e-6)
        self.last_pages, self.last_time = pages, now
        logger.info(progress_line(stats, now - self.started, rate))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
