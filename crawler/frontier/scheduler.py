"""The Scrapy scheduler of a distributed crawl: scrapy-redis's scheduler with a leased queue and a Bloom filter.

A request popped from the shared queue is *leased* to this worker (see :mod:`crawler.frontier.store`). The
:class:`LeaseTracker` acknowledges a lease only when everything that came from the request is safe:

* its callback ran to the end and every request it yielded is in the shared queue (the spider middleware in
  :mod:`crawler.frontier.middleware` queues them itself before the callback is counted as done);
* every page it yielded is durable (the indexing stage's ``page_stored`` signal), or was dropped;
* or it failed for good (``request_failed``), or it was continued by a retry or a redirect (acknowledged by the same
  Redis script that queues the continuation).

At a graceful stop the leases not yet done go back to the queue; after a crash (SIGKILL) the worker's heartbeat expires
and another worker puts them back. Redis calls here are synchronous (Scrapy's scheduler interface is), one round trip
each, sub-millisecond on loopback or a LAN.

Offers: :class:`FrontierScheduler`, :class:`LeaseTracker`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.utils.request import fingerprint, request_from_dict
from scrapy_redis import picklecompat
from scrapy_redis.queue import Base as RedisQueueBase
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from crawler import signals as darkcrawl_signals
from crawler.frontier.store import PUSH_RESULTS, QUEUED, Frontier
from crawler.identity import META_LEASE, META_SITE_TOKEN, META_WARC, site_key

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Request meta that belongs to one worker's processing and must not travel through the queue.
LOCAL_META = (META_LEASE, META_SITE_TOKEN, META_WARC, "download_slot", "proxy", "_auth_proxy")


@dataclass
class _Lease:
    callback_done: bool = False
    pending_urls: set[str] = field(default_factory=set)


class LeaseTracker:
    """This worker's leases and what each still waits for; acknowledges them in the frontier when done."""

    def __init__(self, frontier: Frontier, stats: StatsCollector | None, wait_for_storage: bool):
        self.frontier = frontier
        self.stats = stats
        self.wait_for_storage = wait_for_storage
        self.leases: dict[str, _Lease] = {}
        self.by_url: dict[str, set[str]] = {}

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, count)

    def leased(self, lease_id: str) -> None:
        self.leases[lease_id] = _Lease()

    def holds(self, lease_id: object) -> TypeGuard[str]:
        return isinstance(lease_id, str) and lease_id in self.leases

    def expect_page(self, lease_id: str, url: str) -> None:
        """The request behind *lease_id* yielded a page for *url*: wait until it is stored."""
        lease = self.leases.get(lease_id)
        if lease is None or not self.wait_for_storage:
            return
        lease.pending_urls.add(url)
        self.by_url.setdefault(url, set()).add(lease_id)

    def page_resolved(self, url: str) -> None:
        """The page for *url* is durable (or was dropped): it no longer holds its lease."""
        for lease_id in self.by_url.pop(url, ()):
            lease = self.leases.get(lease_id)
            if lease is not None:
                lease.pending_urls.discard(url)
                self._maybe_ack(lease_id, lease)

    def done(self, lease_id: str) -> None:
        """The callback (or errback) of the leased request has finished and its child requests are queued."""
        lease = self.leases.get(lease_id)
        if lease is not None:
            lease.callback_done = True
            self._maybe_ack(lease_id, lease)

    def transferred(self, lease_id: str) -> None:
        """A retry or redirect continues the lease; the push that queued it acknowledged it."""
        lease = self.leases.pop(lease_id, None)
        if lease is not None:
            for url in lease.pending_urls:
                self.by_url.get(url, set()).discard(lease_id)

    def _maybe_ack(self, lease_id: str, lease: _Lease) -> None:
        if lease.callback_done and not lease.pending_urls:
            del self.leases[lease_id]
            self._inc("darkcrawl/frontier/acked", self.frontier.ack([lease_id]))

    def release_all(self) -> int:
        """Put every lease not yet done back in the shared queue (graceful stop)."""
        ids = list(self.leases)
        self.leases.clear()
        self.by_url.clear()
        released = self.frontier.release(ids)
        self._inc("darkcrawl/frontier/released", released)
        return released


class LeasedQueue(RedisQueueBase):
    """scrapy-redis's request (de)serialization over the frontier's leased queue."""

    def __init__(self, frontier: Frontier, spider: Spider):
        super().__init__(frontier.client, spider, frontier.key("queue"), serializer=picklecompat)
        self.frontier = frontier

    def encode(self, request: Request) -> bytes:
        meta = {key: value for key, value in request.meta.items() if key not in LOCAL_META}
        return bytes(self._encode_request(request.replace(meta=meta)))

    def decode(self, payload: bytes) -> Request:
        return request_from_dict(self.serializer.loads(payload), spider=self.spider)

    def __len__(self) -> int:
        return self.frontier.queued()

    def clear(self) -> None:  # the shared queue outlives any one worker: never cleared by one
        pass


class FrontierScheduler(RedisScheduler):
    """Scrapy scheduler over the shared frontier (``SCHEDULER`` when ``DARKCRAWL_REDIS_URL`` is set)."""

    def __init__(self, frontier: Frontier, crawler: Crawler):
        super().__init__(server=frontier.client, persist=True, queue_key=frontier.key("queue"))
        self.frontier = frontier
        self.crawler = crawler
        self.stats = crawler.stats
        self.tracker = LeaseTracker(
            frontier, crawler.stats, wait_for_storage=crawler.settings.getbool("DARKCRAWL_ES_ENABLED")
        )
        self.queue: LeasedQueue | None = None
        crawler.signals.connect(self._page_stored, signal=darkcrawl_signals.page_stored)
        crawler.signals.connect(self._request_failed, signal=darkcrawl_signals.request_failed)
        crawler.signals.connect(self._item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self._item_dropped, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        return cls(Frontier.from_settings(crawler.settings), crawler)

    # --- signals -------------------------------------------------------------------------------------------------
    def _page_stored(self, urls: list[str]) -> None:
        for url in urls:
            self.tracker.page_resolved(url)

    def _item_dropped(self, item: Any, **kwargs: Any) -> None:
        url = getattr(item, "url", None)
        if url:
            self.tracker.page_resolved(url)

    def _request_failed(self, request: Request) -> None:
        lease_id = request.meta.get(META_LEASE)
        if self.tracker.holds(lease_id):
            self.tracker.done(lease_id)

    # --- the scheduler interface ---------------------------------------------------------------------------------
    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = LeasedQueue(self.frontier, spider)
        self.frontier.heartbeat()  # before any pop: a worker without a heartbeat looks dead to the others
        queued = self.frontier.queued()
        logger.info("worker %s joined the frontier %s (%d requests queued)", self.frontier.worker_id,
                    self.frontier.prefix, queued)

    def close(self, reason: str) -> None:
        released = self.tracker.release_all()
        if released:
            logger.info("%d requests not finished went back to the shared queue", released)
        self.frontier.leave()

    def enqueue_request(self, request: Request) -> bool:
        assert self.queue is not None
        lease_id = request.meta.get(META_LEASE)
        transfer = lease_id if self.tracker.holds(lease_id) else None
        result = self.frontier.push(
            self.queue.encode(request),
            fingerprint(request),
            site_key(urlsplit(request.url).hostname or ""),
            priority=request.priority,
            dont_filter=request.dont_filter,
            transfer=transfer,
        )
        if transfer is not None:
            self.tracker.transferred(transfer)
        if self.stats is not None:
            self.stats.inc_value(f"darkcrawl/frontier/{PUSH_RESULTS[result]}")
            if result == QUEUED:
                self.stats.inc_value("scheduler/enqueued")
            elif result != 0:
                self.stats.inc_value(f"darkcrawl/budget/{PUSH_RESULTS[result]}")
        return result == QUEUED

    def next_request(self) -> Request | None:
        assert self.queue is not None
        for lease_id, payload in self.frontier.pop(1):
            try:
                request = self.queue.decode(payload)
            except Exception as exc:  # a request this worker cannot rebuild: drop it, never loop on it
                logger.error("dropping an unreadable request from the shared queue (%s: %s)", type(exc).__name__, exc)
                self.frontier.ack([lease_id])
                continue
            request.meta[META_LEASE] = lease_id
            self.tracker.leased(lease_id)
            if self.stats is not None:
                self.stats.inc_value("scheduler/dequeued")
                self.stats.inc_value("darkcrawl/frontier/leased")
            return request
        return None

    def has_pending_requests(self) -> bool:
        return self.frontier.queued() > 0

    def __len__(self) -> int:
        return self.frontier.queued()
