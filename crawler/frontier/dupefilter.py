"""A scrapy-redis duplicate filter backed by the frontier's Bloom filter instead of an unbounded Redis set.

darkcrawl's own scheduler tests and sets the filter inside the script that queues a request (so a URL is never marked
seen without being queued); this class offers the same filter to scrapy-redis's stock scheduler and to other tools
(``DUPEFILTER_CLASS = "crawler.frontier.dupefilter.BloomDupeFilter"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.utils.request import fingerprint
from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.frontier.store import Frontier

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings


class BloomDupeFilter(RFPDupeFilter):
    def __init__(self, frontier: Frontier, debug: bool = False):
        super().__init__(frontier.client, key=frontier.key("seen"), debug=debug)
        self.frontier = frontier

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> BloomDupeFilter:
        return cls(Frontier.from_settings(settings), debug=settings.getbool("DUPEFILTER_DEBUG"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BloomDupeFilter:
        return cls.from_settings(crawler.settings)

    @classmethod
    def from_spider(cls, spider: Spider) -> BloomDupeFilter:
        return cls.from_settings(spider.settings)

    def request_fingerprint(self, request: Any) -> Any:
        return fingerprint(request)

    def request_seen(self, request: Any) -> bool:
        return self.frontier.mark_seen([fingerprint(request)])[0]

    def close(self, reason: str = "") -> None:
        """The filter is shared by every worker: one worker closing does not clear it."""

    def clear(self) -> None:
        for name in self.frontier.seen_keys():
            self.server.delete(name)
