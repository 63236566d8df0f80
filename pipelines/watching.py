"""Item pipeline stage that evaluates the active watches on each new or changed page and writes the alerts. See README
"Watch and warn".

It runs after extraction and before indexing (``ITEM_PIPELINES``: 700 < 800), on the page document the index gets
(:func:`crawler.sink.documents.page_document`), so the crawl and the retro-hunt (crawler/alerts/hunt.py) evaluate the
same thing. Pages are taken in batches (``DARKCRAWL_ALERTS_BATCH`` pages or ``DARKCRAWL_ALERTS_BATCH_WAIT``
seconds): one ``mget`` reads the stored content hash and last fetch of the batch's pages (the indexing stage has not
written them yet), a page whose content is unchanged is checked only against watches added since its last fetch, the
alerts go to Elasticsearch in one bulk request with ``create`` (a 409: the alert exists, only ``last_seen`` moves),
and each NEW alert goes to the notification outbox; the alerts of unchanged pages get their ``last_seen`` moved (one
search and one bulk per batch), so ``last_seen`` says when the content was last seen online. A page item waits here
until its alerts are durable (written, or kept in ``<data dir>/spool/alerts.jsonl`` while Elasticsearch is away), so
a page is never indexed, and so never "unchanged" for the next crawl, before its alerts exist.

Off (``NotConfigured``) without indexing, with ``DARKCRAWL_ALERTS_ENABLED`` false, or when no watch is active.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro

from crawler.alerts.documents import CRAWL
from crawler.alerts.evaluation import WatchInputs, changed_since, load_watch_inputs, page_alerts
from crawler.alerts.store import AlertRecorder, AlertWriter
from crawler.errors import ServiceError, UsageError
from crawler.identity import page_id
from crawler.items import PageItem, utc_timestamp
from crawler.sink.documents import page_document

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

    from crawler.notify.outbox import Outbox
    from crawler.sink.spool import Spool
    from crawler.watch.matchers import WatchSet
    from crawler.watch.model import Watch

logger = logging.getLogger(__name__)

Pending = tuple[str, dict[str, Any], "asyncio.Future[None]"]  # (page id, page document, released when done)


@dataclass
class WatchingConfig:
    batch: int
    batch_wait: float
    max_retries: int

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> WatchingConfig:
        return cls(
            batch=max(1, settings.getint("DARKCRAWL_ALERTS_BATCH")),
            batch_wait=max(0.0, settings.getfloat("DARKCRAWL_ALERTS_BATCH_WAIT")),
            max_retries=settings.getint("DARKCRAWL_ES_MAX_RETRIES"),
        )


def alert_spool(settings: BaseSettings) -> Spool:
    """The spool of alerts Elasticsearch did not take: ``<data dir>/spool/alerts.jsonl``."""
    from crawler.paths import data_dir
    from crawler.sink.spool import Spool

    return Spool(data_dir(settings) / "spool" / "alerts.jsonl", settings.getint("DARKCRAWL_SPOOL_MAX_BYTES"))


def notification_outbox(settings: BaseSettings) -> Outbox:
    """The durable notification outbox (crawler/notify)."""
    from crawler.notify.outbox import Outbox

    return Outbox.from_settings(settings)


class WatchingPipeline:
    def __init__(self, crawler: Crawler, watches: list[Watch]):
        self.crawler = crawler
        self.settings = crawler.settings
        self.watches = watches
        self.by_id = {watch.id: watch for watch in watches}
        self.config = WatchingConfig.from_settings(self.settings)
        stats = crawler.stats
        assert stats is not None
        self.stats = stats
        self.client: Any = None
        self.inputs = WatchInputs()
        self.watch_set: WatchSet | None = None
        self.subsets: dict[frozenset[str], WatchSet] = {}  # watches added since an unchanged page's last fetch
        self.recorder: AlertRecorder | None = None
        self.pending: list[Pending] = []
        self.timer: asyncio.TimerHandle | None = None
        self.flushes: set[asyncio.Task[None]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WatchingPipeline:
        from crawler.watch.store import WatchStore

        settings = crawler.settings
        if not settings.getbool("DARKCRAWL_ALERTS_ENABLED"):
            raise NotConfigured("watches are not evaluated (DARKCRAWL_ALERTS_ENABLED)")
        if not settings.getbool("DARKCRAWL_ES_ENABLED"):
            raise NotConfigured("watches need the index (DARKCRAWL_ES_ENABLED)")
        with WatchStore.from_settings(settings) as store:
            watches = store.active_watches()
        if not watches:
            raise NotConfigured("no active watch")
        return cls(crawler, watches)

    async def open_spider(self, spider: Spider | None = None) -> None:
        from crawler.es.client import es_client
        from crawler.es.schema import index_names

        names = index_names(self.settings)
        self.pages_alias = names.pages
        self.client = es_client(self.settings)
        try:
            self.inputs = await load_watch_inputs(self.client, names, self.watches)
        except Exception as exc:  # the crawl goes on: clone watches compare with the watched pages met from now on
            logger.warning("watching: clone references or known sites unreadable (%s); clone watches see only the "
                           "watched pages this crawl meets, new-site watches are off", exc)
        self.watch_set = self._compile()
        self.recorder = AlertRecorder(
            AlertWriter(self.client, names.alerts, self.config.max_retries),
            notification_outbox(self.settings),
            self.by_id.get,
            spool=alert_spool(self.settings),
            stats=lambda key, count: self.stats.inc_value(key, count),
        )
        logger.info("watching: %d active watches (%s)", len(self.watches),
                    ", ".join(sorted({watch.kind for watch in self.watches})))
        try:
            replayed = await self.recorder.replay()
        except Exception as exc:
            logger.warning("the alert spool could not be replayed yet (%s); it is kept and retried next time", exc)
        else:
            if replayed:
                logger.info("wrote %d alerts kept in the spool while Elasticsearch was away", replayed)

    def _compile(self) -> WatchSet:
        """The watch set; a YARA watch whose rule copy is gone or changed is left out (the others still watch) and
        the log says to add it again."""
        try:
            return self.inputs.compile(self.watches)
        except UsageError as exc:
            from crawler.watch.model import YARA

            logger.error("watching: %s; the YARA watches are off for this crawl", exc)
            self.watches = [watch for watch in self.watches if watch.kind != YARA]
            return self.inputs.compile(self.watches)

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if not isinstance(item, PageItem) or item.review is not None:  # flagged pages keep no text to watch
            return item
        document = page_document(item)
        released: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((page_id(document["url"]), document, released))
        if len(self.pending) >= self.config.batch:
            self._start_flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.config.batch_wait, self._start_flush)
        await released
        return item

    def _start_flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._flush(batch))
            self.flushes.add(task)
            task.add_done_callback(self.flushes.discard)

    async def _flush(self, batch: list[Pending]) -> None:
        refused: Exception | None = None
        try:
            await self._evaluate(batch)
        except ServiceError as exc:  # the alert spool or the outbox is full: nothing more can be made durable
            logger.error("watching: %s", exc)
            self._stop("outbox_full" if type(exc).__name__ == "OutboxFullError" else "spool_full")
            refused = DropItem(f"its alerts could not be kept: {exc}")
        except Exception:
            logger.exception("watching: %d pages could not be checked against the watches", len(batch))
            self.stats.inc_value("darkcrawl/alerts/failed_pages", len(batch))
        finally:
            for _doc_id, _document, released in batch:
                if not released.done():
                    if refused is None:
                        released.set_result(None)
                    else:  # not indexed: the next crawl meets the page as new and makes its alerts then
                        released.set_exception(refused)

    def _stop(self, reason: str) -> None:
        engine = getattr(self.crawler, "engine", None)
        if engine is not None and engine.spider is not None and engine._slot is not None and not engine._slot.closing:
            deferred_from_coro(engine.close_spider_async(reason=reason))

    async def _stored(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """content_sha256 and last_seen of the pages already indexed, by id; empty when Elasticsearch does not
        answer (every page is then checked: the alert ids and ``create`` still make each alert once)."""
        try:
            response = await self.client.mget(index=self.pages_alias, ids=ids,
                                              source_includes=["content_sha256", "last_seen"])
        except Exception as exc:
            logger.warning("watching: stored page hashes unreadable (%s); checking every page of the batch", exc)
            return {}
        return {doc["_id"]: doc.get("_source", {}) for doc in response["docs"] if doc.get("found")}

    def _watch_set_for(self, page: dict[str, Any], stored: dict[str, Any] | None) -> WatchSet | None:
        """All watches for a new or changed page; for an unchanged one, those added since its last fetch."""
        assert self.watch_set is not None
        if stored is None or stored.get("content_sha256") != page.get("content_sha256"):
            return self.watch_set
        newer = changed_since(self.watches, stored.get("last_seen"))
        if not newer:
            return None
        if len(newer) == len(self.watches):
            return self.watch_set
        key = frozenset(watch.id for watch in newer)
        if key not in self.subsets:
            self.subsets[key] = self.inputs.compile(newer)
        return self.subsets[key]

    async def _evaluate(self, batch: list[Pending]) -> None:
        assert self.recorder is not None
        stored = await self._stored([doc_id for doc_id, _document, _released in batch])
        now = utc_timestamp()
        alerts: list[dict[str, Any]] = []
        unchanged: dict[str, str] = {}  # page id -> content hash, for the last_seen of their alerts
        for doc_id, document, _released in batch:
            watch_set = self._watch_set_for(document, stored.get(doc_id))
            if watch_set is not self.watch_set:
                unchanged[doc_id] = document.get("content_sha256") or ""
            if watch_set is not None:
                alerts += page_alerts(watch_set, document, doc_id, CRAWL, now)
        self.stats.inc_value("darkcrawl/alerts/pages_evaluated", len(batch) - len(unchanged))
        self.stats.inc_value("darkcrawl/alerts/pages_unchanged", len(unchanged))
        await self.recorder.record(alerts)
        await self._seen_again(unchanged, now)

    async def _seen_again(self, unchanged: dict[str, str], now: str) -> None:
        """The alerts of unchanged pages are still online: move their ``last_seen`` (one search and one bulk per
        batch; a failure costs only that date)."""
        assert self.recorder is not None
        try:
            touched = await self.recorder.writer.seen_again(unchanged, now)
        except Exception as exc:
            logger.warning("watching: last_seen of the alerts of %d unchanged pages not moved (%s)",
                           len(unchanged), exc)
        else:
            self.stats.inc_value("darkcrawl/alerts/seen_again", touched)

    async def close_spider(self, spider: Spider | None = None) -> None:
        self._start_flush()
        try:
            while self.flushes:
                await asyncio.gather(*list(self.flushes), return_exceptions=True)
        finally:
            if self.client is not None:
                await self.client.close()
        count = lambda key: self.stats.get_value(f"darkcrawl/alerts/{key}", 0)  # noqa: E731
        logger.info("watching: %d pages checked, %d unchanged, %d new alerts, %d already known%s",
                    count("pages_evaluated"), count("pages_unchanged"), count("new"), count("existing"),
                    f", {count('spooled')} spooled" if count("spooled") else "")
