"""Downloader middleware that writes every HTTP exchange to WARC, and the run's manifest when the crawl ends.

It sits at 890, next to the download handler: it sees the response as received (before Scrapy's decompression at
590, before redirects are followed at 600) and the request as it was sent. Serializing, compressing and writing a
record runs in a worker thread (``asyncio.to_thread``), one file at a time (the writer's lock), so the event loop only
waits for its own record. Where the response record lies is put in ``request.meta["darkcrawl_warc"]``; the spider
copies it into the page item, so the page document points at its evidence.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.evidence.manifest import build_manifest, write_manifest
from crawler.evidence.warc import Exchange, WarcWriter
from crawler.identity import META_CIRCUIT, META_TOR_INSTANCE, META_WARC

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)



def warc_dir(settings: BaseSettings) -> Path:
    """``DARKCRAWL_WARC_DIR``, else ``<data dir>/warc``."""
    from crawler.paths import data_dir

    configured = settings.get("DARKCRAWL_WARC_DIR")
    return Path(configured).expanduser() if configured else data_dir(settings) / "warc"


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    pairs = []
    for name, values in headers.items():
        for value in values:
            pairs.append((name.decode("latin-1"), value.decode("latin-1")))
    return pairs


def tor_identity(request: Request, worker: str, crawl_id: str) -> dict[str, str]:
    """The Tor instance and circuit a request went through, from what the routing middleware put in its meta."""
    proxy = urlsplit(request.meta.get("proxy") or "")
    circuit = str(request.meta.get(META_CIRCUIT, ""))
    _index, _, rest = circuit.partition("/")
    username, _, generation = rest.partition("/")
    return {
        "tor-instance": str(request.meta.get(META_TOR_INSTANCE, "")),
        "socks-endpoint": f"{proxy.hostname}:{proxy.port}" if proxy.hostname else "",
        "socks-username": username or (proxy.username or ""),
        "circuit-generation": generation or (proxy.password or ""),
        "crawl-id": crawl_id,
        "worker": worker,
    }


class WarcMiddleware:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("DARKCRAWL_WARC_ENABLED"):
            raise NotConfigured  # evidence is off by default (DARKCRAWL_WARC_ENABLED)
        self.crawler = crawler
        self.directory = warc_dir(settings)
        self.worker = settings.get("DARKCRAWL_WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"
        self.writer: WarcWriter | None = None
        self.started_at = ""
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        return cls(crawler)

    @property
    def crawl_id(self) -> str:
        return str(self.crawler.settings.get("DARKCRAWL_CRAWL_ID") or "crawl")

    def spider_opened(self, spider: Spider) -> None:
        from crawler import __version__
        from crawler.items import utc_timestamp

        self.started_at = utc_timestamp()
        self.writer = WarcWriter(
            self.directory,
            self.crawler.settings.get("DARKCRAWL_WARC_PREFIX"),
            self.crawl_id,
            self.crawler.settings.getint("DARKCRAWL_WARC_MAX_BYTES"),
            {"software": f"darkcrawl/{__version__}", "format": "WARC File Format 1.1",
             "crawl-id": self.crawl_id, "worker": self.worker},
        )
        logger.info("writing WARC evidence to %s", self.directory)

    async def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if self.writer is None:
            return response
        exchange = Exchange(
            url=request.url,
            method=request.method,
            request_headers=_header_pairs(request.headers),
            request_body=request.body or b"",
            protocol=str(getattr(response, "protocol", None) or "HTTP/1.1"),
            status=response.status,
            response_headers=_header_pairs(response.headers),
            body=response.body,
            fetched_at=datetime.now(UTC),
            tor=tor_identity(request, self.worker, self.crawl_id),
        )
        location = await asyncio.to_thread(self.writer.write_exchange, exchange)
        request.meta[META_WARC] = location.as_dict()
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("darkcrawl/warc/exchanges")
        self.crawler.stats.inc_value("darkcrawl/warc/bytes", location.exchange_length)
        return response

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.writer is None:
            return
        files = self.writer.close()
        assert self.crawler.stats is not None
        manifest = build_manifest(
            crawl_id=self.crawl_id,
            worker=self.worker,
            seeds=[seed.url for seed in getattr(spider, "seeds", [])],
            settings=self.crawler.settings,
            started_at=self.started_at,
            finish_reason=reason,
            stats=self.crawler.stats.get_stats(),
            files=files,
        )
        path = write_manifest(self.directory, manifest)
        logger.info("crawl manifest %s: %d WARC files", path, len(files))
