"""Scrapy extension that updates each site's recrawl state in the ``sites`` index when a crawl closes.

It counts, per site, the requests that left the downloader and the responses that came back, then asks the pages
index which sites had new or changed pages in this crawl, and writes one observation per site tried
(:func:`crawler.scheduling.recrawl.observe`). A crawl stopped early (``shutdown``: Ctrl-C, a time budget) records
only the sites that answered: a site whose requests were cut short has not failed. Failures to reach Elasticsearch
are logged, never fatal: the state is advisory.

On with ``DARKCRAWL_RECRAWL_TRACK_SITES`` and indexing (``DARKCRAWL_ES_ENABLED``). Offers: :class:`SiteStateExtension`.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.identity import site_key
from crawler.scheduling.recrawl import RecrawlPolicy, SiteState, changed_sites_query, observe

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class SiteStateExtension:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.settings = crawler.settings
        self.policy = RecrawlPolicy.from_settings(crawler.settings)
        self.started = time.time()
        self.attempts: defaultdict[str, int] = defaultdict(int)
        self.responses: defaultdict[str, int] = defaultdict(int)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteStateExtension:
        settings = crawler.settings
        if not (settings.getbool("DARKCRAWL_RECRAWL_TRACK_SITES") and settings.getbool("DARKCRAWL_ES_ENABLED")):
            raise NotConfigured  # no message: Scrapy would log it as a warning in every such crawl
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.request_left, signal=signals.request_left_downloader)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.time()

    def request_left(self, request: Request, spider: Spider) -> None:
        self.attempts[site_key(urlsplit(request.url).hostname or "")] += 1

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        self.responses[site_key(urlsplit(request.url).hostname or "")] += 1

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        await self.record(reason, getattr(spider, "crawl_id", ""))

    def observations(self, reason: str) -> dict[str, bool]:
        """site -> answered, for the sites this crawl tried (a cut-short crawl: answered sites only)."""
        sites = {site: self.responses.get(site, 0) > 0 for site in set(self.attempts) | set(self.responses) if site}
        if reason == "shutdown":
            sites = {site: answered for site, answered in sites.items() if answered}
        return sites

    async def record(self, reason: str, crawl_id: str) -> None:
        from crawler.es.client import es_client
        from crawler.es.schema import index_names

        observed = self.observations(reason)
        if not observed:
            return
        names = index_names(self.settings)
        client = es_client(self.settings)
        try:
            changed: set[str] = set()
            if crawl_id and any(observed.values()):
                await client.indices.refresh(index=names.pages)
                response = await client.search(index=names.pages, **changed_sites_query(crawl_id, self.started - 1))
                changed = {bucket["key"] for bucket in response["aggregations"]["sites"]["buckets"]}
            stored = await client.mget(index=names.sites, ids=sorted(observed))
            states = {doc["_id"]: SiteState.from_document(doc["_source"]) for doc in stored["docs"] if doc.get("found")}
            now = time.time()
            operations: list[Any] = []
            for site, answered in sorted(observed.items()):
                state = observe(states.get(site), site, answered, site in changed, now, self.policy, crawl_id)
                operations += [{"index": {"_index": names.sites, "_id": site}}, state.to_document()]
            # visible on return, without waiting up to a second for the index's periodic refresh ("wait_for")
            result = await client.bulk(operations=operations, refresh=True)
            if result.get("errors"):
                logger.warning("the sites index refused some recrawl states: %s", result["items"][0])
            else:
                dead = sum(1 for answered in observed.values() if not answered)
                logger.info("recrawl state: %d sites answered, %d did not", len(observed) - dead, dead)
        except Exception as exc:
            logger.warning("could not update the recrawl state of %d sites: %s", len(observed), exc)
        finally:
            await client.close()
