"""What the sites learn about the crawl: nothing they could choose to learn.

Scrapy's referrer middleware lets a response's ``Referrer-Policy`` header override the crawl's ``REFERRER_POLICY``
(``same-origin`` in darkcrawl: no Referer is ever sent to another site). A hostile site could answer
``Referrer-Policy: unsafe-url`` so that the next site learns where the crawler came from; this downloader middleware
removes that header from every response before the spider middlewares read it, so the crawl's policy always holds.
Counted under ``darkcrawl/privacy/referrer_policy_ignored``.

Offers :class:`IgnoreSiteReferrerPolicyMiddleware`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector


class IgnoreSiteReferrerPolicyMiddleware:
    """Drop the ``Referrer-Policy`` header of responses: the crawl's own policy decides, never the site."""

    def __init__(self, stats: StatsCollector):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IgnoreSiteReferrerPolicyMiddleware:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if b"Referrer-Policy" in response.headers:
            del response.headers[b"Referrer-Policy"]
            self.stats.inc_value("darkcrawl/privacy/referrer_policy_ignored")
        return response
