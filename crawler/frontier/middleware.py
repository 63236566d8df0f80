"""Spider middleware of a distributed crawl: marks when a leased request's callback is done.

It sits closest to the engine, so it sees exactly what the scraper would handle. Requests the callback yields are
queued here, synchronously, into the shared frontier (what the scraper would do with them), so that when the callback
ends every child is in Redis; pages are passed on and registered with the lease, which waits for them to be stored.
Then the lease is marked done (:class:`crawler.frontier.scheduler.LeaseTracker`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.exceptions import NotConfigured

from crawler.frontier.scheduler import FrontierScheduler
from crawler.identity import META_LEASE
from crawler.items import PageItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class LeaseSpiderMiddleware:
    def __init__(self, crawler: Crawler):
        if not crawler.settings.get("DARKCRAWL_REDIS_URL"):
            raise NotConfigured  # single-host crawl: no shared frontier (no message: nothing to warn about)
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseSpiderMiddleware:
        return cls(crawler)

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        if not isinstance(scheduler, FrontierScheduler):
            async for output in result:
                yield output
            return
        tracker = scheduler.tracker
        lease_id = response.meta.get(META_LEASE)
        try:
            async for output in result:
                if isinstance(output, Request):
                    assert engine is not None
                    engine.crawl(output)  # into Redis now, before this lease can be acknowledged
                    continue
                if isinstance(output, PageItem) and tracker.holds(lease_id):
                    tracker.expect_page(lease_id, output.url)
                yield output
        finally:
            if tracker.holds(lease_id):
                tracker.done(lease_id)
