"""Scrapy extension that keeps a small status file of the running crawl: ``<data dir>/crawls/<crawl id>.json``.

``darkcrawl status`` reads it to show running crawls (pages, rate, errors), the scheduler reads it when a run ends
(metrics, per-site results), and the recrawl state of each site is computed from its ``sites`` table: a site answered
when at least one response came back from it (any HTTP status: the service is up), it failed when requests reached
the downloader and none came back (Tor could not connect, timeouts).

The file is rewritten atomically every ``DARKCRAWL_STATUS_INTERVAL`` seconds and once more when the crawl closes
(``finished_at`` and ``finish_reason`` set).

Offers: :class:`CrawlStatusExtension`, :func:`status_dir`, :func:`read_status`, :func:`read_statuses`,
:func:`pid_alive`.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.identity import site_key
from crawler.paths import data_dir, ensure_private_dir
from crawler.progress import error_count

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings


def status_dir(settings: BaseSettings) -> Path:
    return data_dir(settings) / "crawls"


def pid_start_time(pid: int) -> int | None:
    """Start time of *pid* in clock ticks after boot, or None when it is gone or a zombie (Linux /proc)."""
    from crawler.lab.state import start_time

    return start_time(pid)


def pid_alive(pid: int | None, recorded_start: int | None = None) -> bool:
    """True when *pid* runs (and, if *recorded_start* is given, is the process that started then, not a reuse)."""
    if not pid or pid <= 1:
        return False
    started = pid_start_time(pid)
    return started is not None and (recorded_start is None or started == recorded_start)


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_statuses(directory: Path) -> list[dict[str, Any]]:
    """Every readable status file in *directory*, newest first."""
    if not directory.is_dir():
        return []
    found = [status for path in directory.glob("*.json") if (status := read_status(path))]
    return sorted(found, key=lambda status: status.get("started_at", 0), reverse=True)


class CrawlStatusExtension:
    def __init__(self, crawler: Crawler, path: Path, interval: float):
        self.crawler = crawler
        self.path = path
        self.interval = interval
        self.started_at = time.time()
        self.loop: task.LoopingCall | None = None
        self.requests: defaultdict[str, int] = defaultdict(int)
        self.responses: defaultdict[str, int] = defaultdict(int)
        self.last_pages = 0
        self.last_time = time.monotonic()
        self.rate = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlStatusExtension:
        settings = crawler.settings
        interval = settings.getfloat("DARKCRAWL_STATUS_INTERVAL")
        crawl_id = settings.get("DARKCRAWL_CRAWL_ID")
        if interval <= 0 or not crawl_id:
            raise NotConfigured  # no message: Scrapy would log it as a warning in every such crawl
        path = ensure_private_dir(status_dir(settings)) / f"{crawl_id}.json"
        extension = cls(crawler, path, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.request_reached, signal=signals.request_reached_downloader)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension

    def request_reached(self, request: Request, spider: Spider) -> None:
        self.requests[site_key(urlsplit(request.url).hostname or "")] += 1

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        self.responses[site_key(urlsplit(request.url).hostname or "")] += 1

    def spider_opened(self, spider: Spider) -> None:
        self.started_at = time.time()
        self.write()
        self.loop = task.LoopingCall(self.write)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.write(finish_reason=reason)

    def snapshot(self, finish_reason: str | None = None) -> dict[str, Any]:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        now = time.monotonic()
        pages = int(stats.get("darkcrawl/pages", 0))
        if now - self.last_time >= 1:
            self.rate = (pages - self.last_pages) / (now - self.last_time)
            self.last_pages, self.last_time = pages, now
        errors = {
            key.removeprefix("darkcrawl/errors/"): value
            for key, value in stats.items()
            if key.startswith("darkcrawl/errors/") and isinstance(value, int)
        }
        tor = {
            key.removeprefix("darkcrawl/tor/"): value
            for key, value in stats.items()
            if key.startswith("darkcrawl/tor/") and isinstance(value, int)
        }
        sites = {
            site: {"requests": count, "responses": self.responses.get(site, 0)}
            for site, count in sorted(self.requests.items())
        }
        return {
            "crawl_id": self.crawler.settings.get("DARKCRAWL_CRAWL_ID"),
            "pid": os.getpid(),
            "pid_start": pid_start_time(os.getpid()),
            "jobdir": self.crawler.settings.get("JOBDIR") or None,
            "started_at": self.started_at,
            "updated_at": time.time(),
            "finished_at": time.time() if finish_reason else None,
            "finish_reason": finish_reason,
            "pages": pages,
            "indexed": int(stats.get("darkcrawl/index/indexed", 0)),
            "spooled": int(stats.get("darkcrawl/index/spooled", 0)),
            "error_count": error_count(stats),
            "errors": errors,
            "tor": tor,
            "queued": max(int(stats.get("scheduler/enqueued", 0)) - int(stats.get("scheduler/dequeued", 0)), 0),
            "pages_per_minute": round(self.rate * 60, 1),
            "sites": sites,
        }

    def write(self, finish_reason: str | None = None) -> None:
        temporary = self.path.with_suffix(".tmp")
        try:
            temporary.write_text(json.dumps(self.snapshot(finish_reason)) + "\n", encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:  # a full disk must not stop the crawl; status shows the last good file
            pass
