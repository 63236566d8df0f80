"""Item pipeline stage that bulk-indexes pages, their versions, sightings and entities into Elasticsearch: the Scrapy
wrapper around :class:`crawler.sink.bulk.PageSink` (where batching, retries, the dead-letter file and the spool are
described). It builds the client from the settings, replays the spool when the crawl opens, flushes on a timer and at
close, stops the crawl when the spool is full, and tells ``page_stored`` which pages are durable.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from crawler.items import PageItem
from crawler.signals import page_stored
from crawler.sink.bulk import replay_spool, sink_from_settings, spool_from_settings
from crawler.sink.documents import page_document
from crawler.sink.spool import SpoolFullError

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class ElasticsearchPipeline:
    """Scrapy stage around :class:`PageSink`: builds the client from settings, flushes on a timer and at close."""

    def __init__(self, crawler: Crawler):
        from crawler.es.client import es_client

        settings = crawler.settings
        if not settings.getbool("DARKCRAWL_ES_ENABLED"):
            raise NotConfigured("indexing disabled (DARKCRAWL_ES_ENABLED)")
        self.crawler = crawler
        stats: StatsCollector | None = crawler.stats
        assert stats is not None
        self.stats = stats
        self.client = es_client(settings)
        self.sink = sink_from_settings(
            settings, self.client, lambda key, count: self.stats.inc_value(key, count), spool_from_settings(settings)
        )
        self.sink.on_stored = self._page_stored
        self.timer: asyncio.Task[None] | None = None
        self.periodic: asyncio.Task[None] | None = None  # the timer's flush in progress, never cancelled
        self.received = 0  # page items handed to the sink ...
        self.stored = 0  # ... and how many of them are durable (indexed, spooled or dead-lettered)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ElasticsearchPipeline:
        return cls(crawler)

    def _page_stored(self, urls: list[str]) -> None:
        self.stored += len(urls)
        self.crawler.signals.send_catch_log(signal=page_stored, urls=urls)

    async def open_spider(self, spider: Spider | None = None) -> None:
        try:
            replayed = await replay_spool(self.sink)
        except Exception as exc:
            logger.warning("the spool could not be replayed yet (%s); it is kept and retried next time", exc)
        else:
            if replayed:
                logger.info("replayed %d spooled pages into Elasticsearch", replayed)
                self.stats.inc_value("darkcrawl/index/replayed", replayed)
        self.timer = asyncio.get_running_loop().create_task(self._flush_periodically())

    async def _flush_periodically(self) -> None:
        """Flush every half interval when the buffer is due. Closing cancels this loop while it sleeps or waits;
        the flush itself runs in a task of its own that closing awaits: cancelling a bulk request half-way would
        drop its batch (the last pages of the crawl, seen missing from the index under load)."""
        while True:
            await asyncio.sleep(max(self.sink.config.flush_interval / 2, 0.5))
            if self.sink.due():
                self.periodic = asyncio.get_running_loop().create_task(self._flush_once())
                await asyncio.shield(self.periodic)

    async def _flush_once(self) -> None:
        try:
            await self.sink.flush()
        except SpoolFullError as exc:
            self._spool_full(exc)
        except Exception:
            logger.exception("periodic flush to Elasticsearch failed")

    def _spool_full(self, exc: SpoolFullError) -> None:
        """Stop fetching what could not be kept: the crawl closes with the reason ``spool_full``."""
        logger.error("%s", exc)
        self.stats.inc_value("darkcrawl/index/spool_full")
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None and engine._slot is not None and not engine._slot.closing:
            deferred_from_coro(engine.close_spider_async(reason="spool_full"))

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, PageItem):
            self.received += 1
            try:
                await self.sink.add(page_document(item))
            except SpoolFullError as exc:
                self._spool_full(exc)
                raise
        else:
            logger.debug("not indexing %s", type(ItemAdapter(item).item).__name__)
        return item

    async def close_spider(self, spider: Spider | None = None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        try:
            if self.periodic is not None:
                await self.periodic  # a flush under way finishes its batch (it handles its own errors)
            await self.sink.flush()
        finally:
            await self.client.close()
            self._account()

    def _account(self) -> None:
        """Say it loudly when a page item reached this stage but was neither indexed, spooled nor dead-lettered."""
        lost = self.received - self.stored
        if lost > 0:
            self.stats.inc_value("darkcrawl/index/unaccounted", lost)
            logger.error(
                "%d of the %d pages handed to indexing were neither indexed, spooled nor dead-lettered (the errors "
                "above say why): recrawl their sites", lost, self.received,
            )
