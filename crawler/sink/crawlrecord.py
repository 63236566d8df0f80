"""The crawl record: one document per crawl run in the crawls index (docs/schema.md, Crawls), for operators and Kibana.

:class:`CrawlRecordExtension` (a Scrapy extension, off with ``DARKCRAWL_ES_ENABLED``) writes the record when the crawl
opens (``status: running``, seeds, options) and completes it when it closes (finish reason, duration, Scrapy's stats
summarised: pages, errors by type, statuses, bytes, items, Tor failures). A write Elasticsearch cannot take goes to
``<data dir>/spool/crawls.jsonl`` (fsynced) and is written at the next crawl's start or by ``darkcrawl es replay``;
one it rejects goes to ``<data dir>/dead-letter/crawls.jsonl`` with the reason. Records are partial updates of the
document whose id is the crawl id, so replaying them in order gives the same document.

Offers :class:`CrawlRecordExtension`, :func:`closing_fields` (stats -> fields, pure), :func:`replay_crawl_spool`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import __version__
from crawler.backoff import backoff_delay
from crawler.es.client import is_transient
from crawler.es.templates import SCHEMA_VERSION
from crawler.items import utc_timestamp
from crawler.sink.deadletter import dead_letter
from crawler.sink.spool import Spool, SpoolFullError

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

# The settings that shape a crawl, recorded with it (name in the record: the setting without DARKCRAWL_, lower case).
RECORDED_SETTINGS = (
    "DEPTH_LIMIT", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT",
    "DOWNLOAD_MAXSIZE", "JOBDIR", "DARKCRAWL_MAX_PAGES", "DARKCRAWL_MAX_PAGES_PER_SITE", "DARKCRAWL_FOLLOW_LINKS",
    "DARKCRAWL_FOLLOW_NEW_ONIONS", "DARKCRAWL_ALLOW_CLEARNET", "DARKCRAWL_FOLLOW_CLEARNET", "DARKCRAWL_TOR_INSTANCES",
    "DARKCRAWL_EXTRACT_ENABLED", "DARKCRAWL_WATCHLISTS", "DARKCRAWL_VENDOR_RULES", "DARKCRAWL_ES_INDEX_PREFIX",
)  # fmt: skip
WRITE_ATTEMPTS = 3  # a crawl's close must not wait long for an absent Elasticsearch: 1 s, then 2 s between tries


def _suffixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {key[len(prefix) :]: int(value) for key, value in stats.items()
            if key.startswith(prefix) and isinstance(value, int | float)}


def closing_fields(stats: dict[str, Any], reason: str) -> dict[str, Any]:
    """The record's fields at close, from Scrapy's stats of the run and its finish *reason*."""
    errors = _suffixed(stats, "darkcrawl/errors/")
    errors |= {f"spider:{name}": count for name, count in _suffixed(stats, "spider_exceptions/").items()}
    refused = _suffixed(stats, "darkcrawl/refused/")
    refused |= {f"skipped:{name}": count for name, count in _suffixed(stats, "darkcrawl/skipped/").items()}
    refused |= {f"budget:{name}": count for name, count in _suffixed(stats, "darkcrawl/budget/").items()}
    tor = _suffixed(stats, "darkcrawl/tor/")
    tor_failures = sum(count for name, count in tor.items() if name.endswith(("/circuit_errors", "/health_failures")))

    def count(key: str) -> int:
        value = stats.get(key, 0)
        return int(value) if isinstance(value, int | float) else 0

    return {
        "status": "finished",
        "finish_reason": reason,
        "pages_fetched": count("darkcrawl/pages"),
        "pages_indexed": count("darkcrawl/index/indexed"),
        "pages_spooled": count("darkcrawl/index/spooled"),
        "pages_failed": count("darkcrawl/index/failed"),
        "items": count("item_scraped_count"),
        "requests": count("downloader/request_count"),
        "responses": count("downloader/response_count"),
        "bytes": count("downloader/response_bytes"),
        "errors_total": sum(errors.values()),
        "tor_failures": tor_failures,
        "errors": errors,
        "statuses": _suffixed(stats, "downloader/response_status_count/"),
        "refused": refused,
        "stats": {key: value for key, value in stats.items()
                  if isinstance(value, int | float) and not isinstance(value, bool)},
    }


class CrawlRecordExtension:
    """Writes the crawl's record to the crawls alias at open and at close (spool or dead-letter file otherwise)."""

    def __init__(self, crawler: Crawler):
        from crawler.es.schema import index_names
        from crawler.paths import data_dir

        settings = crawler.settings
        if not settings.getbool("DARKCRAWL_ES_ENABLED"):
            raise NotConfigured("indexing disabled (DARKCRAWL_ES_ENABLED)")
        self.crawler = crawler
        self.settings = settings
        self.alias = index_names(settings).crawls
        self.spool = crawl_spool(settings)
        self.dead_letter = data_dir(settings) / "dead-letter" / "crawls.jsonl"
        self.started = 0.0
        self.crawl_id = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRecordExtension:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        for name in RECORDED_SETTINGS:
            value = self.settings.get(name)
            if value not in (None, "", []):
                options[name.removeprefix("DARKCRAWL_").lower()] = value if not isinstance(value, Path) else str(value)
        return options

    async def spider_opened(self, spider: Spider) -> None:
        loop = asyncio.get_running_loop()
        self.started = loop.time()
        self.crawl_id = str(getattr(spider, "crawl_id", "") or self.settings.get("DARKCRAWL_CRAWL_ID") or "")
        if not self.crawl_id:
            return
        seeds = list(getattr(spider, "seeds", []) or [])
        fields = {
            "crawl_id": self.crawl_id,
            "status": "running",
            "hostname": socket.gethostname(),
            "started_at": utc_timestamp(),
            "seeds": [seed.url for seed in seeds],
            "sites": sorted({seed.site for seed in seeds}),
            "options": self._options(),
            "darkcrawl_version": __version__,
            "schema_version": SCHEMA_VERSION,
        }
        await self._write(fields, replay_first=True)

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if not self.crawl_id:
            return
        assert self.crawler.stats is not None
        fields = closing_fields(self.crawler.stats.get_stats(), reason)
        fields["finished_at"] = utc_timestamp()
        fields["elapsed_seconds"] = round(asyncio.get_running_loop().time() - self.started, 3)
        await self._write(fields)

    async def _write(self, fields: dict[str, Any], replay_first: bool = False) -> None:
        from crawler.es.client import es_client

        record = {"crawl_id": self.crawl_id, "fields": fields | {"updated_at": utc_timestamp()}}
        client = es_client(self.settings)
        try:
            if replay_first:
                try:
                    await replay_crawl_spool(client, self.alias, self.spool, self.dead_letter)
                except Exception as exc:
                    logger.warning("spooled crawl records could not be written yet (%s); kept for later", exc)
            await write_records(client, self.alias, [record], self.dead_letter, attempts=WRITE_ATTEMPTS)
        except Exception as exc:
            try:
                self.spool.append([record])
            except SpoolFullError as full:
                logger.error("crawl record of %s lost: %s", self.crawl_id, full)
                return
            logger.warning("crawl record of %s kept in %s: Elasticsearch unreachable (%s)",
                           self.crawl_id, self.spool.path, exc)
        finally:
            await client.close()


def crawl_spool(settings: BaseSettings) -> Spool:
    """The crawl-record spool in the data directory (same bound as the page spool)."""
    from crawler.paths import data_dir

    return Spool(data_dir(settings) / "spool" / "crawls.jsonl", settings.getint("DARKCRAWL_SPOOL_MAX_BYTES"))


async def write_records(
    client: Any, alias: str, records: list[dict[str, Any]], dead_letter_path: Path, attempts: int = 1
) -> None:
    """Apply crawl records (partial documents by crawl id) in order. Raises the client's error when Elasticsearch
    stays unreachable; a record it rejects goes to *dead_letter_path* with the reason."""
    if not records:
        return
    operations: list[Any] = []
    for record in records:
        operations.append({"update": {"_index": alias, "_id": record["crawl_id"], "retry_on_conflict": 3}})
        operations.append({"doc": record["fields"], "doc_as_upsert": True})
    for attempt in range(attempts):
        try:
            # refresh=True, not "wait_for": visible on return either way, but "wait_for" waited for the index's next
            # periodic refresh, up to a second of every crawl's start and end (#16); one small refresh costs nothing
            response = await client.bulk(operations=operations, refresh=True)
            break
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(backoff_delay(attempt + 1))
    for record, item in zip(records, response["items"], strict=True):
        outcome = item["update"]
        if outcome.get("status", 500) >= 300:
            if is_transient(outcome):
                raise RuntimeError(f"Elasticsearch overloaded ({outcome.get('status')})")
            dead_letter(dead_letter_path, alias, record, outcome.get("error"))
            logger.error("Elasticsearch rejected the crawl record of %s: %s (kept in %s)", record.get("crawl_id"),
                         outcome.get("error"), dead_letter_path)


async def replay_crawl_spool(client: Any, alias: str, spool: Spool, dead_letter_path: Path) -> int:
    """Write every spooled crawl record, in order; return how many. They stay spooled if Elasticsearch fails."""
    records = spool.begin_replay()
    if records:
        await write_records(client, alias, records, dead_letter_path)
    spool.finish_replay()
    return len(records)
