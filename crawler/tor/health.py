"""Scrapy extension that keeps a crawl fail-closed on Tor's health, and brings it back when Tor returns.

At engine start and every ``DARKCRAWL_TOR_CHECK_INTERVAL`` seconds it checks each tor instance (SOCKS answering,
bootstrap at 100% when a control port is known); the routing middleware also asks for a check at once when a request
fails because its Tor SOCKS port is gone (:data:`tor_suspect`). When an instance is unusable:

* the engine is **paused**: nothing new is sent (and nothing is ever sent without Tor: the download handler refuses
  any request that is not bound for a Tor SOCKS port); requests that were in flight are put back in the queue, and
  so is any request that fails until Tor is usable again (the routing middleware is told by the :data:`tor_paused`
  and :data:`tor_resumed` signals): they do not spend their retries on a tor that is down;
* a tor that darkcrawl launched for this crawl (``DARKCRAWL_TOR_LAUNCHED``) is **restarted** from its torrc with
  stem, in a thread; once it is 100% bootstrapped the engine resumes;
* a tor darkcrawl did not launch is waited for, checked every :data:`PAUSED_POLL` seconds, up to
  ``DARKCRAWL_TOR_WAIT`` seconds; then the spider is closed with the reason ``tor_unavailable`` (the CLI exits 3).

Stats, per instance *n* (``darkcrawl status`` reads them): ``darkcrawl/tor/<n>/health_failures``,
``darkcrawl/tor/<n>/restarts``; and ``darkcrawl/tor/pauses``, ``darkcrawl/tor/paused_seconds``. The checks and the
restart run in threads: stem and plain sockets block.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, cast

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task, threads

from crawler.tor.config import TorConfig
from crawler.tor.control import TorStatus, check_endpoint
from crawler.tor.endpoints import TorEndpoint

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

CLOSE_REASON = "tor_unavailable"
PAUSED_POLL = 2.0  # seconds between checks while the crawl is paused
tor_suspect = object()  # signal: a request failed as if its tor were gone (sent by the routing middleware)
tor_paused = object()  # signal: the crawl is paused, Tor is unusable (the routing middleware queues failures again)
tor_resumed = object()  # signal: Tor is usable again, the crawl goes on


class TorHealthExtension:
    def __init__(self, crawler: Crawler, endpoints: list[TorEndpoint], interval: float, wait: float,
                 launched: list[dict[str, Any]]):
        self.crawler = crawler
        self.endpoints = endpoints
        self.interval = interval
        self.wait = wait
        self.launched = launched  # torrc of each instance darkcrawl launched, by index; empty: external tor
        self.loop: task.LoopingCall | None = None
        self.last_statuses: list[TorStatus] = []
        self.paused_since: float | None = None
        self.checking = False
        self.restarting = False
        self.closed = False
        self.restarted: list[Any] = []  # processes started by a restart, stopped at the end of the crawl
        self.poll: Any = None  # the one pending check while paused (an IDelayedCall)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TorHealthExtension:
        endpoints = list(TorConfig.from_settings(crawler.settings).endpoints)
        if not endpoints:
            raise NotConfigured("no Tor endpoints")
        launched_json = crawler.settings.get("DARKCRAWL_TOR_LAUNCHED") or "[]"
        extension = cls(
            crawler,
            endpoints,
            crawler.settings.getfloat("DARKCRAWL_TOR_CHECK_INTERVAL"),
            crawler.settings.getfloat("DARKCRAWL_TOR_WAIT"),
            json.loads(launched_json) if isinstance(launched_json, str) else list(launched_json),
        )
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.suspect, signal=tor_suspect)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        if self.interval > 0:
            self.loop = task.LoopingCall(self.check)
            self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider) -> None:
        self.closed = True
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.poll is not None and self.poll.active():
            self.poll.cancel()
        for process, owner in self.restarted:
            owner.close()
            if process.poll() is None:
                process.terminate()
                process.wait()

    def suspect(self, endpoint_index: int = 0) -> None:
        """A request found its tor's SOCKS port dead: pause at once, then check."""
        self._pause(f"tor #{endpoint_index} stopped answering on its SOCKS port")
        self.check()

    def check(self) -> Any:
        if self.checking or self.restarting or self.closed:
            return None
        self.checking = True
        deferred = threads.deferToThread(lambda: [check_endpoint(endpoint) for endpoint in self.endpoints])
        deferred.addCallback(self._evaluate)
        deferred.addErrback(lambda failure: logger.error("tor health check failed: %s", failure.getErrorMessage()))
        deferred.addBoth(self._checked)
        return deferred

    def _checked(self, result: Any) -> Any:
        self.checking = False
        return result

    def _evaluate(self, statuses: list[TorStatus]) -> None:
        self.last_statuses = statuses
        stats = self.crawler.stats
        assert stats is not None
        down = [status for status in statuses if not status.ready]
        for status in down:
            stats.inc_value(f"darkcrawl/tor/{status.index}/health_failures")
            logger.warning("%s", status.describe())
        if not down:
            self._resume()
            return
        self._pause("; ".join(status.describe() for status in down))
        if self.launched and all(status.index < len(self.launched) for status in down):
            self._restart(down)
            return
        assert self.paused_since is not None
        waited = time.monotonic() - self.paused_since
        if waited >= self.wait:
            self._close(statuses, f"waited {waited:.0f}s (DARKCRAWL_TOR_WAIT={self.wait:g})")
        else:
            self._poll_soon()

    def _pause(self, why: str) -> None:
        engine = self.crawler.engine
        if self.paused_since is not None or engine is None or self.closed:
            return
        self.paused_since = time.monotonic()
        engine.pause()
        self.crawler.signals.send_catch_log(signal=tor_paused)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("darkcrawl/tor/pauses")
        action = "restarting it" if self.launched else f"waiting for it up to {self.wait:g}s (DARKCRAWL_TOR_WAIT)"
        logger.error("Tor unusable (%s): crawl paused, nothing is fetched without Tor; %s", why, action)

    def _resume(self) -> None:
        engine = self.crawler.engine
        if self.paused_since is None or engine is None:
            return
        paused = time.monotonic() - self.paused_since
        self.paused_since = None
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("darkcrawl/tor/paused_seconds", round(paused))
        logger.warning("Tor is usable again after %.0fs: crawl resumed", paused)
        self.crawler.signals.send_catch_log(signal=tor_resumed)
        engine.unpause()
        slot = getattr(engine, "_slot", None)
        if slot is not None:  # wake the engine's loop, which went idle while paused
            slot.nextcall.schedule()

    def _poll_soon(self) -> None:
        from twisted.internet import reactor  # imported late: importing it installs a reactor

        if not self.closed and (self.poll is None or not self.poll.active()):  # one poll at a time, not one per caller
            self.poll = cast(Any, reactor).callLater(PAUSED_POLL, self.check)

    def _restart(self, down: list[TorStatus]) -> None:
        from crawler.tor.launcher import restart_instance

        settings = self.crawler.settings
        binary = settings.get("DARKCRAWL_TOR_BINARY")
        timeout = settings.getfloat("DARKCRAWL_TOR_BOOTSTRAP_TIMEOUT")
        self.restarting = True

        def restart_all() -> list[Any]:
            processes = []
            for status in down:
                endpoint = self.endpoints[status.index]
                logger.warning("restarting tor #%d (it was launched by darkcrawl for this crawl)", status.index)
                processes.append(restart_instance(self.launched[status.index], endpoint, binary, timeout))
            return processes

        def done(processes: list[Any]) -> None:
            self.restarting = False
            self.restarted.extend(processes)
            assert self.crawler.stats is not None
            for status in down:
                self.crawler.stats.inc_value(f"darkcrawl/tor/{status.index}/restarts")
            self.check()

        def failed(failure: Any) -> None:
            self.restarting = False
            self._close(self.last_statuses, f"restart failed: {failure.getErrorMessage()}")

        deferred = threads.deferToThread(restart_all)
        deferred.addCallbacks(done, failed)

    def _close(self, statuses: list[TorStatus], why: str) -> None:
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value("darkcrawl/tor/unavailable", "; ".join(status.describe() for status in statuses) + f"; {why}")
        logger.error("no usable tor (%s): stopping the crawl (nothing is ever fetched without Tor)", why)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None and not self.closed:
            self.closed = True
            deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
