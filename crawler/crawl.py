"""Running one crawl: Tor made ready (or refused), then Scrapy's ``CrawlerProcess`` with the onion spider.

This is what ``darkcrawl crawl`` and ``darkcrawl demo`` call. It never lets a crawl start without a usable Tor:
configured instances are checked (SOCKS answering, bootstrap 100%), otherwise darkcrawl launches its own.

Offers: :class:`CrawlResult`, :func:`prepare_tor`, :func:`run_crawl`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scrapy.settings import Settings

from crawler.errors import ServiceError
from crawler.paths import data_dir, ensure_private_dir
from crawler.seeds import Seed
from crawler.tor.config import TorConfig
from crawler.tor.control import check_endpoint
from crawler.tor.endpoints import TorEndpoint
from crawler.tor.launcher import LaunchedTor, launch_instances, stop_instances

logger = logging.getLogger(__name__)

Say = Callable[[str], None]


@dataclass
class CrawlResult:
    """What one crawl (or one worker's share of a distributed crawl) did, read from its Scrapy stats."""

    crawl_id: str
    finish_reason: str
    stats: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0

    def counters(self, prefix: str) -> dict[str, Any]:
        """The stats under ``darkcrawl/<prefix>/``, keyed by the rest of their name."""
        start = f"darkcrawl/{prefix}/"
        return {key[len(start) :]: value for key, value in self.stats.items() if key.startswith(start)}

    @property
    def pages(self) -> int:
        return int(self.stats.get("darkcrawl/pages", 0))

    @property
    def indexed(self) -> int:
        return int(self.stats.get("darkcrawl/index/indexed", 0))

    @property
    def errors(self) -> dict[str, int]:
        return self.counters("errors")

    @property
    def tor(self) -> dict[str, Any]:
        """Tor health during the crawl: pauses, restarts, failures per instance (``<n>/<what>``)."""
        return self.counters("tor")

    @property
    def hostile(self) -> dict[str, int]:
        """Hostile responses and links by reason (crawler/fetch/limits.py)."""
        return self.counters("hostile")

    @property
    def extraction(self) -> dict[str, int]:
        """Pages whose extraction did not finish: ``timeouts`` (over DARKCRAWL_EXTRACT_TIMEOUT), ``failures``."""
        return {name: value for name, value in self.counters("extract").items() if name in ("timeouts", "failures")}

    @property
    def skipped(self) -> dict[str, int]:
        return self.counters("skipped")

    @property
    def flagged(self) -> int:
        return int(self.stats.get("darkcrawl/safety/flagged", 0))

    @property
    def refused(self) -> dict[str, int]:
        return self.counters("refused")

    @property
    def frontier(self) -> dict[str, Any]:
        """The shared frontier's counters of a distributed crawl (requeued, pushed ...); empty otherwise."""
        return self.counters("frontier")

    def as_summary(self, skipped_seeds: Iterable[object] = ()) -> dict[str, Any]:
        """The summary ``crawl --json`` and ``worker --json`` print, one definition for both; its keys are
        documented in docs/crawling.md ("The summary"), and the scheduler reads it back from ``output.json``."""
        return {
            "crawl_id": self.crawl_id,
            "finish_reason": self.finish_reason,
            "pages": self.pages,
            "indexed": self.indexed,
            "errors": self.errors,
            "refused": self.refused,
            "hostile": self.hostile,
            "extraction": self.extraction,
            "tor": self.tor,
            "skipped": self.skipped,
            "flagged_for_review": self.flagged,
            "frontier": self.frontier,
            "skipped_seeds": [str(problem) for problem in skipped_seeds],
            "elapsed_seconds": round(self.elapsed, 1),
        }


def prepare_tor(settings: Settings, say: Say) -> tuple[list[TorEndpoint], list[LaunchedTor]]:
    """Return usable Tor endpoints, launching darkcrawl's own tor when none is configured. Raises ServiceError."""
    endpoints = list(TorConfig.from_settings(settings).endpoints)
    if endpoints:
        statuses = [check_endpoint(endpoint) for endpoint in endpoints]
        for status in statuses:
            say(status.describe())
        usable = [endpoint for endpoint, status in zip(endpoints, statuses, strict=True) if status.ready]
        if not usable:
            raise ServiceError(
                "no usable Tor: " + "; ".join(status.describe() for status in statuses) + ". Start tor (or "
                "`darkcrawl lab up` for the private lab) or fix DARKCRAWL_TOR_SOCKS; darkcrawl never crawls without Tor"
            )
        if len(usable) < len(endpoints):
            say(f"crawling with {len(usable)} of {len(endpoints)} tor instances")
        return [replace(endpoint, index=index) for index, endpoint in enumerate(usable)], []
    count = max(settings.getint("DARKCRAWL_TOR_INSTANCES"), 1)
    launched = launch_instances(
        count,
        data_dir(settings) / "tor",
        settings.getint("DARKCRAWL_TOR_BASE_PORT"),
        tor_binary=settings.get("DARKCRAWL_TOR_BINARY"),
        timeout=settings.getfloat("DARKCRAWL_TOR_BOOTSTRAP_TIMEOUT"),
        extra_config=settings.getlist("DARKCRAWL_TOR_EXTRA_CONFIG"),
        progress=say,
        extra_socks=min(max(settings.getint("DARKCRAWL_TOR_EXTRA_SOCKS"), 0), 8),
    )
    return [instance.endpoint for instance in launched], launched


def private_files(settings: Settings) -> None:
    """Make every file this crawl creates owner-only: the data directory 0700, and a 077 umask for the rest of the
    process (spool, dead-letter files, the job directory Scrapy writes, launched tor's files, screenshots). What a
    crawl stores names the sites an investigation looks at; other users of the machine must not read it."""
    os.umask(0o077)
    ensure_private_dir(data_dir(settings))


def check_extraction_config(settings: Settings) -> None:
    """Load the watch lists and vendor rules once before anything starts, so a bad file (or extraction budget) is a
    one-line error (UsageError naming the file and line) instead of a failure inside Scrapy's start-up.

    They are loaded by the crawl's own extraction workers, started here and taken over by the extraction stage
    (:func:`pipelines.extraction.prestart_pool`): the compiled tables never weigh on the crawl process itself, and
    no worker is started only to be stopped. :func:`run_crawl` closes them if the stage never took them."""
    if settings.getbool("DARKCRAWL_EXTRACT_ENABLED"):
        from pipelines.extraction import prestart_pool

        prestart_pool(settings)


def check_safety_config(settings: Settings) -> None:
    """Load the blocklists and high-risk terms once before anything starts: a bad file is a one-line error."""
    from crawler.safety.middleware import policy_from_settings

    policy_from_settings(settings)


def check_notify_config(settings: Settings) -> None:
    """Read the notification targets once before anything starts: a malformed table is a one-line error."""
    from crawler.notify.deliver import NotifyConfig

    NotifyConfig.from_settings(settings)


def endpoint_settings(endpoints: list[TorEndpoint]) -> dict[str, str]:
    """The settings that hand *endpoints* to the crawl's components."""
    values = {"DARKCRAWL_TOR_SOCKS": ",".join(endpoint.socks_address for endpoint in endpoints)}
    if all(endpoint.control_port is not None for endpoint in endpoints):
        values["DARKCRAWL_TOR_CONTROL"] = ",".join(
            f"{endpoint.control_host}:{endpoint.control_port}" for endpoint in endpoints
        )
    else:
        values["DARKCRAWL_TOR_CONTROL"] = ""
    return values


def browser_settings(settings: Settings, launched: list[LaunchedTor]) -> dict[str, Any]:
    """With rendering on: the render handler, and the browser's SOCKS ports (the launched tors' extra ports unless
    DARKCRAWL_RENDER_SOCKS names some; with an existing tor and none named, its SOCKS ports serve the browser too)."""
    from crawler.render import render_settings
    from crawler.render.config import RenderConfig

    values = render_settings(settings)
    if values and not settings.get("DARKCRAWL_RENDER_SOCKS"):
        extra = [f"127.0.0.1:{port}" for instance in launched for port in instance.extra_socks_ports]
        if extra:
            values["DARKCRAWL_RENDER_SOCKS"] = ",".join(extra)
    if values:  # a bad setting or a missing browser is a one-line error now, not a failure inside Scrapy
        checked = settings.copy()
        checked.update(values, priority="cmdline")
        browser = RenderConfig.from_settings(checked).browser
        if not (os.path.isfile(browser) and os.access(browser, os.X_OK)):
            raise ServiceError(
                f"Chromium not found at {browser} (DARKCRAWL_RENDER_BROWSER): install Debian's chromium "
                "(./setup.sh does) or point DARKCRAWL_RENDER_BROWSER at it"
            )
    return values


DISTRIBUTED_SCHEDULER = "crawler.frontier.scheduler.FrontierScheduler"


def prepare_frontier(settings: Settings, seeds: list[Seed], say: Say) -> None:
    """Distributed crawl: check Redis, push *seeds* into the shared queue (once: seen ones are dropped). Raises
    UsageError or ServiceError."""
    from crawler.errors import UsageError
    from crawler.frontier.store import Frontier
    from crawler.redact import mask_url
    from spiders.seeding import push_seeds

    if settings.get("JOBDIR"):
        raise UsageError(
            "--jobdir and DARKCRAWL_REDIS_URL exclude each other: the shared frontier in Redis already survives stops"
        )
    frontier = Frontier.from_settings(settings)
    if seeds:
        pushed = push_seeds(frontier, seeds)
        say(
            f"pushed {pushed.queued} seeds into the shared frontier {frontier.prefix} at "
            f"{mask_url(settings.get('DARKCRAWL_REDIS_URL'))}"
            + (f" ({pushed.already_seen} seen before)" if pushed.already_seen else "")
            + (f" ({pushed.over_budget} over budget)" if pushed.over_budget else "")
        )
    frontier.client.close()


RUNNING_MARKER = "darkcrawl.running"  # in the job directory while a crawl runs; left behind by a killed one
JOB_STATE = ("requests.queue", "requests.seen", "spider.state")  # what Scrapy keeps in JOBDIR


def open_jobdir(settings: Settings, say: Say) -> Path | None:
    """Mark the job directory as in use; return the marker (None without ``JOBDIR``).

    Scrapy writes its queue's index and the spider state only when a crawl stops cleanly, and the last pages of a
    killed crawl may sit in the indexing buffer: after ``kill -9``, a power cut or a full spool, the saved state
    would skip pages that were never indexed. A marker left by such a run makes this one start again from the
    seeds: every page is fetched and indexed again, under the same document id, so each still ends indexed once."""
    jobdir = settings.get("JOBDIR")
    if not jobdir:
        return None
    path = Path(jobdir)
    marker = path / RUNNING_MARKER
    if marker.exists():
        for name in JOB_STATE:
            target = path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        say(f"the last run of the job in {path} did not stop cleanly (killed, or its spool filled up): its saved queue "
            "cannot be trusted, so this run starts again from the seeds; pages already indexed are updated in place "
            "(same ids), none is duplicated")
    path.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{os.getpid()}\n")
    return marker


def run_crawl(settings: Settings, seeds: list[Seed], say: Say, crawl_id: str | None = None) -> CrawlResult:
    """Run one crawl of *seeds* to its end in this process (Scrapy's reactor runs once per process).

    With ``DARKCRAWL_REDIS_URL`` set this process is one worker of a distributed crawl: the seeds go into the shared
    frontier and the crawl takes its requests from there (crawler/frontier)."""
    from pipelines.extraction import close_prestarted

    crawl_id = crawl_id or settings.get("DARKCRAWL_CRAWL_ID") or uuid.uuid4().hex[:16]
    private_files(settings)
    check_extraction_config(settings)
    try:
        return _run_crawl(settings, seeds, say, crawl_id)
    finally:
        close_prestarted()


def _run_crawl(settings: Settings, seeds: list[Seed], say: Say, crawl_id: str) -> CrawlResult:
    """:func:`run_crawl` once the extraction workers are up."""
    from scrapy.crawler import CrawlerProcess

    from spiders.onion import OnionSpider

    check_safety_config(settings)
    check_notify_config(settings)
    distributed = bool(settings.get("DARKCRAWL_REDIS_URL"))
    if distributed:
        prepare_frontier(settings, seeds, say)
    endpoints, launched = prepare_tor(settings, say)
    try:
        crawl_settings = settings.copy()
        if distributed:
            crawl_settings.set("SCHEDULER", DISTRIBUTED_SCHEDULER, priority="cmdline")
        crawl_settings.update(endpoint_settings(endpoints), priority="cmdline")
        if launched:  # the health extension restarts a launched tor that dies mid-crawl, from the same torrc
            crawl_settings.set("DARKCRAWL_TOR_LAUNCHED", json.dumps([instance.config for instance in launched]),
                               priority="cmdline")
        crawl_settings.set("DARKCRAWL_CRAWL_ID", crawl_id, priority="cmdline")
        crawl_settings.set("STATS_DUMP", False, priority="cmdline")
        crawl_settings.update(browser_settings(crawl_settings, launched), priority="cmdline")
        if crawl_settings.getbool("DARKCRAWL_RENDER"):
            sockets = ",".join(f"{host}:{port}" for host, port in TorConfig.from_settings(crawl_settings).render_socks)
            say(f"rendering JavaScript pages in Chromium through Tor SOCKS {sockets}")
        say(
            f"crawl {crawl_id}: {len(seeds)} seeds on {len({seed.site for seed in seeds})} sites through "
            f"{len(endpoints)} tor instance(s)"
        )
        started = time.monotonic()
        marker = open_jobdir(crawl_settings, say)
        process = CrawlerProcess(crawl_settings)
        crawler = process.create_crawler(OnionSpider)
        process.crawl(crawler, seeds=seeds, crawl_id=crawl_id)
        process.start()
        assert crawler.stats is not None
        stats = crawler.stats.get_stats()
        finish_reason = str(stats.get("finish_reason", "unknown"))
        if marker is not None and finish_reason != "spool_full":  # spool_full: pages were lost, recrawl them
            marker.unlink(missing_ok=True)
        return CrawlResult(crawl_id, finish_reason, stats, time.monotonic() - started)
    finally:
        stop_instances(launched)
