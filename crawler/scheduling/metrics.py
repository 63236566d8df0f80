"""The scheduler's Prometheus metrics, served on ``DARKCRAWL_METRICS_HOST:DARKCRAWL_METRICS_PORT`` (127.0.0.1 by
default: put a reverse proxy or an SSH tunnel in front rather than exposing it).

Counters grow when a run ends (pages, errors by type, Tor circuit failures read from the crawl's status file);
gauges are refreshed every tick (running crawls, the indexing spool backlog, live pages of running crawls); the
notification outbox is read at each scrape (:class:`OutboxCollector`: pending, dead, oldest pending age, and the
delivered, suppressed and failed-attempt totals of every process delivering). One registry per scheduler, so tests
can run several.

Offers: :class:`SchedulerMetrics` (``serve``, ``run_started``, ``run_finished``, ``refresh``),
:class:`OutboxCollector`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from crawler.scheduling.crawlstatus import read_status, status_dir

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

DURATION_BUCKETS = (10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400, float("inf"))
REFRESH_SECONDS = 5.0


class SchedulerMetrics:
    def __init__(self, settings: BaseSettings):
        self.settings = settings
        self.registry = CollectorRegistry()
        r = self.registry
        self.runs_started = Counter("darkcrawl_runs_started", "Crawl runs started", ["schedule"], registry=r)
        self.runs_finished = Counter(
            "darkcrawl_runs_finished", "Crawl runs ended, by how", ["schedule", "state"], registry=r
        )
        self.pages = Counter("darkcrawl_pages_fetched", "Pages fetched by ended runs", ["schedule"], registry=r)
        self.errors = Counter("darkcrawl_crawl_errors", "Download errors of ended runs, by type", ["type"], registry=r)
        self.circuit_failures = Counter(
            "darkcrawl_tor_circuit_failures", "Connection failures through Tor in ended runs", ["instance"], registry=r
        )
        self.durations = Histogram(
            "darkcrawl_crawl_duration_seconds",
            "Duration of ended runs",
            ["schedule"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.running = Gauge("darkcrawl_crawls_running", "Crawls running now", registry=r)
        self.running_pages = Gauge("darkcrawl_running_pages", "Pages fetched so far by running crawls", registry=r)
        self.backlog_pages = Gauge("darkcrawl_index_backlog_pages", "Pages waiting in the indexing spool", registry=r)
        self.backlog_bytes = Gauge("darkcrawl_index_backlog_bytes", "Bytes of the indexing spool", registry=r)
        r.register(OutboxCollector(settings))
        self.last_refresh = 0.0
        self.url = ""

    def serve(self, host: str, port: int) -> str:
        """Start the HTTP endpoint in a thread; return its URL. Raises OSError when the port is taken."""
        start_http_server(port, addr=host, registry=self.registry)
        self.url = f"http://{host}:{port}/metrics"
        return self.url

    def run_started(self, schedule: str) -> None:
        self.runs_started.labels(schedule).inc()

    def run_finished(self, run: Any, outcome: Any, state: str, seconds: float) -> None:
        self.runs_finished.labels(run.schedule, state).inc()
        self.pages.labels(run.schedule).inc(outcome.pages or 0)
        for kind, count in outcome.errors.items():
            self.errors.labels(kind).inc(count)
        for key, count in outcome.tor.items():
            instance, _, name = key.partition("/")
            if name in ("circuit_errors", "health_failures") and instance.isdigit():
                self.circuit_failures.labels(instance).inc(count)
        self.durations.labels(run.schedule).observe(max(seconds, 0.0))

    def refresh(self, scheduler: Any, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_refresh < REFRESH_SECONDS:
            return
        self.last_refresh = now
        running = scheduler.store.running()
        self.running.set(len(running))
        pages = 0
        for run in running:
            status = read_status(status_dir(self.settings) / f"{run.crawl_id}.json")
            pages += int(status.get("pages", 0)) if status else 0
        self.running_pages.set(pages)
        try:
            from crawler.sink.bulk import spool_from_settings

            spool = spool_from_settings(self.settings)
            self.backlog_pages.set(spool.count())
            self.backlog_bytes.set(spool.size_bytes())
        except Exception as exc:  # the spool is advisory here; never stop the scheduler for it
            logger.debug("spool not readable: %s", exc)


class OutboxCollector:
    """The notification outbox as Prometheus reads it: from disk at each scrape, so the counts cover the crawls,
    ``notify flush`` and this scheduler alike."""

    def __init__(self, settings: BaseSettings):
        from crawler.notify.outbox import Outbox

        self.outbox = Outbox.from_settings(settings)

    def collect(self) -> Iterator[Metric]:
        try:
            status = self.outbox.status()
        except OSError as exc:  # an unreadable outbox must not break the scrape of everything else
            logger.warning("notification outbox %s not readable: %s", self.outbox.root, exc)
            return
        yield GaugeMetricFamily("darkcrawl_notify_pending", "Notifications waiting in the outbox", status.pending)
        yield GaugeMetricFamily("darkcrawl_notify_dead", "Notifications given up on (dead/)", status.dead)
        yield GaugeMetricFamily("darkcrawl_notify_oldest_pending_seconds", "Age of the oldest pending alert",
                                status.oldest_pending_seconds or 0.0)
        yield CounterMetricFamily("darkcrawl_notify_delivered", "Notifications delivered", status.delivered)
        yield CounterMetricFamily("darkcrawl_notify_suppressed", "Notifications not sent: realert window",
                                  status.suppressed)
        yield CounterMetricFamily("darkcrawl_notify_failed_attempts", "Failed delivery attempts",
                                  status.failed_attempts)
