"""Scrapy extension delivering notifications while a crawl runs, and once more when it closes. Documentation:
docs/notify.md, "Who delivers".

The alerts stage of the crawl queues notifications in the outbox; this extension delivers them from a background
thread every ``DARKCRAWL_NOTIFY_INTERVAL`` seconds (Apprise blocks on SMTP and HTTP: never on the reactor), and
when the spider closes it runs a last round in a thread, which Scrapy waits for (``DARKCRAWL_NOTIFY_CLOSE_WAIT``
seconds at most). What is still undelivered stays in the outbox for the scheduler or ``darkcrawl notify flush``.
Counted in the crawl's stats as ``darkcrawl/notify/<delivered|messages|suppressed|failed|dead>``.

Off (``NotConfigured``) when ``DARKCRAWL_NOTIFY_INTERVAL`` is 0, or when nothing could ever be sent: no target is
configured (named, default, or on an active watch) and nothing is pending.

Offers: :class:`NotifyExtension`, :func:`has_work`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet.threads import deferToThread

from crawler.notify.deliver import Deliverer, DeliveryReport
from crawler.notify.runner import BackgroundDelivery

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


def watches_have_targets(settings: BaseSettings) -> bool:
    """Whether an active watch names a target (False when the watch store is absent or unreadable)."""
    from crawler.paths import data_dir

    if not (data_dir(settings) / "watch" / "watches.db").is_file():
        return False
    try:
        from crawler.watch.store import WatchStore

        store = WatchStore.from_settings(settings)
        try:
            return any(watch.targets for watch in store.active_watches())
        finally:
            close = getattr(store, "close", None)
            if close is not None:
                close()
    except Exception as exc:
        logger.debug("watch store not readable: %s", exc)
        return True  # cannot tell: deliver rather than miss an alert


def has_work(settings: BaseSettings, deliverer: Deliverer) -> bool:
    """Whether delivery could ever send something: targets configured anywhere, or notifications pending."""
    return bool(
        deliverer.config.targets
        or deliverer.outbox.default_targets
        or deliverer.outbox.streams()
        or watches_have_targets(settings)
    )


class NotifyExtension:
    def __init__(self, crawler: Crawler, runner: BackgroundDelivery):
        self.crawler = crawler
        self.runner = runner

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NotifyExtension:
        settings = crawler.settings
        deliverer = Deliverer.from_settings(settings)
        if deliverer.config.interval <= 0 or not has_work(settings, deliverer):
            raise NotConfigured  # no message: Scrapy would log it as a warning in every crawl without watches
        runner = BackgroundDelivery(deliverer, deliverer.config.interval, deliverer.config.close_wait)
        extension = cls(crawler, runner)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.runner.start()

    def spider_closed(self, spider: Spider, reason: str) -> Deferred[None]:
        return deferToThread(self.runner.stop, True).addCallback(self._count)

    def _count(self, _: DeliveryReport) -> None:
        stats = self.crawler.stats
        assert stats is not None
        total = self.runner.total
        for name in ("delivered", "messages", "suppressed", "failed", "dead"):
            if getattr(total, name):
                stats.set_value(f"darkcrawl/notify/{name}", getattr(total, name))
        pending = self.runner.deliverer.outbox.status().pending
        if pending:
            logger.warning("%d notification(s) still pending in %s: the scheduler or `darkcrawl notify flush` "
                           "delivers them", pending, self.runner.deliverer.outbox.pending_dir)
