"""Item pipeline stage that extracts signals from each fetched page; a thin wrapper of :mod:`pipelines.extract`.

Settings (defaults in :mod:`crawler.settings`, documented in the README's table; the contract in docs/signals.md):
``DARKCRAWL_EXTRACT_ENABLED`` (off: the stage raises ``NotConfigured`` and is skipped), ``DARKCRAWL_WATCHLISTS``,
``DARKCRAWL_VENDOR_RULES`` (empty: the shipped files), ``DARKCRAWL_LANGUAGE_SAMPLE``, ``DARKCRAWL_EXTRACT_WORKERS``,
``DARKCRAWL_EXTRACT_TIMEOUT`` and ``DARKCRAWL_EXTRACT_MAX_PER_KIND``.

For each :class:`crawler.items.PageItem` it sets ``signals`` (the JSON object of ``darkcrawl extract --json``),
``extraction`` (how extraction ended) and, when the spider left them empty, ``language``, ``title``, ``text``,
``content_sha256``, ``links_onion`` and ``links_clearnet``. Pages are extracted in a pool of worker processes
(:mod:`pipelines.extract.pool`), off the reactor and on every core, each within the time budget: a page over it is
passed on with what was known (title, text, links; no signals), marked ``timeout``, counted and logged, never retried.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.items import PageItem, take_extraction_input
from pipelines.extract import Signals
from pipelines.extract.pool import ConfigSpec, ExtractionPool, Outcome
from pipelines.extract.text import ParsedDocument

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

SIGNAL_STATS = ("crypto_addresses", "onions", "pgp_keys", "emails", "handles", "vendors", "keywords")


def spec_from_settings(settings: BaseSettings) -> ConfigSpec:
    """The :class:`ConfigSpec` the settings describe (what each extraction worker compiles)."""
    return ConfigSpec(
        watchlists=tuple(str(path) for path in settings.getlist("DARKCRAWL_WATCHLISTS")),
        vendor_rules=tuple(str(path) for path in settings.getlist("DARKCRAWL_VENDOR_RULES")),
        language_sample=settings.getint("DARKCRAWL_LANGUAGE_SAMPLE"),
        max_per_kind=settings.getint("DARKCRAWL_EXTRACT_MAX_PER_KIND"),
    )


def pool_from_settings(settings: BaseSettings, workers: int | None = None) -> ExtractionPool:
    """An (unstarted) :class:`ExtractionPool` sized (unless *workers* says) and budgeted by the settings. Raises
    :class:`UsageError` for a budget that is not a positive number."""
    return ExtractionPool(
        spec_from_settings(settings),
        workers=settings.getint("DARKCRAWL_EXTRACT_WORKERS") if workers is None else workers,
        timeout=settings.getfloat("DARKCRAWL_EXTRACT_TIMEOUT"),
        nice=settings.getint("DARKCRAWL_EXTRACT_NICE"),
    )


# A pool started before Scrapy (the crawl's preflight, crawler/crawl.py) for the stage to take over: the check that
# the watch lists and rules compile is then the crawl's own workers starting, not one more worker started and stopped.
_prestarted: list[ExtractionPool] = []


def prestart_pool(settings: BaseSettings) -> ExtractionPool:
    """Start the pool the settings describe, for :class:`ExtractionPipeline` to take over in this process; raises
    as :meth:`ExtractionPool.start` does. Whoever calls this closes the pool with :func:`close_prestarted` when the
    crawl ends (a no-op once the stage took it: the stage closes it)."""
    pool = pool_from_settings(settings).start()
    _prestarted.append(pool)
    return pool


def close_prestarted() -> None:
    """Close a prestarted pool no stage took over (the crawl failed before its pipelines were built)."""
    while _prestarted:
        _prestarted.pop().close()


def _take_prestarted(settings: BaseSettings) -> ExtractionPool | None:
    """The prestarted pool, when it is the one the stage would start from *settings* (same files, size, budget)."""
    wanted = pool_from_settings(settings)  # not started: only compared
    for pool in _prestarted:
        if (pool.spec, pool.size, pool.timeout, pool.extractor, pool.nice) == (
            wanted.spec, wanted.size, wanted.timeout, wanted.extractor, wanted.nice
        ) and not pool.closed:
            _prestarted.remove(pool)
            return pool
    return None


def fill_item(item: PageItem, signals: Signals) -> PageItem:
    """Set *item*'s ``signals`` and the derived fields the spider left empty, from *signals*."""
    item.signals = signals.to_dict()
    item.language = item.language or str(signals.language.get("code", "unknown"))
    item.title = item.title or signals.title
    item.text = item.text or signals.text
    item.content_sha256 = item.content_sha256 or signals.content_sha256
    if not item.links_onion:
        item.links_onion = list(signals.links.get("onion", ()))
    if not item.links_clearnet:
        item.links_clearnet = list(signals.links.get("clearnet", ()))
    return item


class ExtractionPipeline:
    """Fill each page item's ``signals`` (and its empty derived fields) from its body, in the worker pool."""

    def __init__(self, pool: ExtractionPool, stats: StatsCollector | None = None) -> None:
        self.pool = pool
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        """Read the settings and start the workers, each compiling the watch lists and vendor rules. Raises
        ``NotConfigured`` when ``DARKCRAWL_EXTRACT_ENABLED`` is false, :class:`crawler.errors.UsageError` for a bad
        YAML file or budget."""
        if not crawler.settings.getbool("DARKCRAWL_EXTRACT_ENABLED"):
            raise NotConfigured("extraction is off (DARKCRAWL_EXTRACT_ENABLED = false)")
        pool = _take_prestarted(crawler.settings) or pool_from_settings(crawler.settings).start()
        logger.info("extraction: %d worker processes, %g s per page at most", pool.size, pool.timeout)
        return cls(pool, crawler.stats)

    def close_spider(self, spider: Spider | None = None) -> None:
        """Stop the workers: none outlives the crawl."""
        self.pool.close()

    async def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        """Extract the signals of a :class:`PageItem` and return it; other items and pages flagged for review
        (``review`` set, no body) pass through untouched."""
        if not isinstance(item, PageItem) or item.review is not None:  # a flagged page has no content to read
            return item
        # the spider's parse of the page (its one parse) when it handed one over, else the markup to parse
        body: str | ParsedDocument = take_extraction_input(item) or item.html or item.text
        outcome = await self.pool.extract(body, item.url, item.content_type or None)
        fill_item(item, outcome.signals)
        item.extraction = {"status": outcome.status, "elapsed_ms": outcome.elapsed_ms}
        self.count(outcome, item)
        return item

    def count(self, outcome: Outcome, item: PageItem) -> None:
        """Stats of one page's extraction; a page over its budget or lost with its worker is also logged."""
        if outcome.status == "timeout":
            logger.warning(
                "extraction of %s stopped after %.1f s (DARKCRAWL_EXTRACT_TIMEOUT): indexed with its %s, no signals",
                item.url,
                outcome.elapsed_ms / 1000,
                "title, text and links" if outcome.signals.text_length else "URL and headers only",
            )
        elif outcome.status == "failed":
            logger.warning("extraction of %s failed: %s; indexed without signals", item.url, outcome.error)
        if self.stats is None:
            return
        self.stats.inc_value("darkcrawl/extract/pages")
        self.stats.inc_value("darkcrawl/extract/milliseconds", outcome.elapsed_ms)
        if outcome.status != "ok":
            self.stats.inc_value(f"darkcrawl/extract/{'timeouts' if outcome.status == 'timeout' else 'failures'}")
            return
        for name in SIGNAL_STATS:
            if item.signals[name]:
                self.stats.inc_value(f"darkcrawl/extract/pages_with_{name}")
