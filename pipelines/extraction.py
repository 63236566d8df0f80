"""Item pipeline stage that extracts signals from each fetched page; a thin wrapper of :mod:`pipelines.extract`.

Settings (defaults and one-line docs in :mod:`crawler.settings`, contract in docs/signals.md):
``DARKCRAWL_EXTRACT_ENABLED`` (off: the stage raises ``NotConfigured`` and is skipped), ``DARKCRAWL_WATCHLISTS``,
``DARKCRAWL_VENDOR_RULES`` (empty: the shipped files), ``DARKCRAWL_LANGUAGE_SAMPLE``,
``DARKCRAWL_EXTRACT_MAX_PER_KIND``.

For each :class:`crawler.items.PageItem` it sets ``signals`` (the JSON object of ``darkcrawl extract --json``) and,
when the spider left them empty, ``language``, ``title``, ``text``, ``content_sha256``, ``links_onion`` and
``links_clearnet``. Extraction is CPU-bound and takes milliseconds per page, so it runs synchronously in
``process_item``; the watch lists and vendor rules are compiled once, in :meth:`ExtractionPipeline.from_crawler`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.items import PageItem
from pipelines.extract import ExtractionConfig, extract_signals
from pipelines.extract.caps import DEFAULT_MAX_PER_KIND
from pipelines.extract.language import DEFAULT_SAMPLE

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def config_from_settings(settings: BaseSettings) -> ExtractionConfig:
    """Build the :class:`ExtractionConfig` the settings describe. Raises :class:`crawler.errors.UsageError` naming
    a bad watch-list or rule file (the crawl CLI can call this before starting, to fail early)."""
    return ExtractionConfig.load(
        watchlists=settings.getlist("DARKCRAWL_WATCHLISTS"),
        vendor_rules=settings.getlist("DARKCRAWL_VENDOR_RULES"),
        language_sample=settings.getint("DARKCRAWL_LANGUAGE_SAMPLE", DEFAULT_SAMPLE),
        max_per_kind=settings.getint("DARKCRAWL_EXTRACT_MAX_PER_KIND", DEFAULT_MAX_PER_KIND),
    )


class ExtractionPipeline:
    """Fill each page item's ``signals`` (and its empty derived fields) from its body."""

    def __init__(self, config: ExtractionConfig, stats: Any = None) -> None:
        self.config = config
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        """Read the settings and compile the watch lists and vendor rules. Raises ``NotConfigured`` when
        ``DARKCRAWL_EXTRACT_ENABLED`` is false, :class:`crawler.errors.UsageError` for a bad YAML file."""
        if not crawler.settings.getbool("DARKCRAWL_EXTRACT_ENABLED", True):
            raise NotConfigured("extraction is off (DARKCRAWL_EXTRACT_ENABLED = false)")
        return cls(config_from_settings(crawler.settings), crawler.stats)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        """Extract the signals of a :class:`PageItem` and return it; other items and pages flagged for review
        (``review`` set, no body) pass through untouched."""
        if not isinstance(item, PageItem) or item.review is not None:  # a flagged page has no content to read
            return item
        started = time.perf_counter()
        body: str = item.html or item.text
        signals = extract_signals(body, item.url, content_type=item.content_type or None, config=self.config)
        item.signals = document = signals.to_dict()
        item.language = item.language or str(signals.language.get("code", "unknown"))
        item.title = item.title or signals.title
        item.text = item.text or signals.text
        item.content_sha256 = item.content_sha256 or signals.content_sha256
        if not item.links_onion:
            item.links_onion = list(signals.links["onion"])
        if not item.links_clearnet:
            item.links_clearnet = list(signals.links["clearnet"])
        if self.stats is not None:
            self.stats.inc_value("darkcrawl/extract/pages")
            self.stats.inc_value("darkcrawl/extract/milliseconds", int((time.perf_counter() - started) * 1000))
            for name in ("crypto_addresses", "onions", "pgp_keys", "emails", "handles", "vendors", "keywords"):
                if document[name]:
                    self.stats.inc_value(f"darkcrawl/extract/pages_with_{name}")
        return item
