"""Delivery in a background thread, for the processes that have other work: a crawl (the reactor must never wait
on SMTP) and the scheduler service. Documentation: docs/notify.md, "Who delivers".

The thread runs one delivery round (:meth:`Deliverer.deliver`) every ``interval`` seconds (retries whose backoff
has passed, digests whose window has ended), and at once when a notification is queued (it watches the pending
directory); :meth:`stop` ends the loop and, when asked, runs a last round bounded by ``close_wait`` seconds.

Offers: :class:`BackgroundDelivery`, :func:`start_delivery`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from crawler.notify.deliver import Deliverer, DeliveryReport
from crawler.notify.secrets import scrub

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # how often the loop checks for newly queued notifications (one stat of a directory)


class BackgroundDelivery:
    def __init__(self, deliverer: Deliverer, interval: float, close_wait: float):
        self.deliverer = deliverer
        self.interval = max(interval, 0.05)
        self.close_wait = close_wait
        self.total = DeliveryReport()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._round = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="darkcrawl-notify", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Deliver now rather than at the next interval (a new alert was queued)."""
        self._wake.set()

    def run_once(self, force: bool = False, deadline: float | None = None) -> DeliveryReport:
        with self._round:  # one round at a time in this process (the outbox's locks cover other processes)
            try:
                report = self.deliverer.deliver(force=force, deadline=deadline)
            except Exception as exc:  # reported, and tried again next round: delivery must not kill its host
                logger.error("notification delivery failed: %s", scrub(str(exc)))
                return DeliveryReport()
        self.total.add(report)
        return report

    def _loop(self) -> None:
        outbox = self.deliverer.outbox
        while not self._stop.is_set():
            self.run_once()
            seen = outbox.pending_mtime()
            deadline = time.monotonic() + self.interval
            # between rounds, look at the pending directory a few times a second: a notification queued by this
            # process or another one starts a round at once instead of waiting for the interval
            while not self._stop.is_set() and (left := deadline - time.monotonic()) > 0:
                if self._wake.wait(min(POLL_SECONDS, left)) or outbox.pending_mtime() != seen:
                    break
            self._wake.clear()

    def stop(self, flush: bool = True) -> DeliveryReport:
        """End the loop; with *flush*, one last round (backoff ignored) of at most ``close_wait`` seconds. Blocks:
        call it from a thread when the caller is an event loop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.close_wait + self.deliverer.config.timeout * 2)
        if not flush:
            return DeliveryReport()
        return self.run_once(force=True, deadline=time.monotonic() + max(self.close_wait, 0.0))


def start_delivery(settings: BaseSettings, say: Callable[[str], None] = logger.info) -> BackgroundDelivery | None:
    """Deliver in the background of a long-lived process (the scheduler); None when DARKCRAWL_NOTIFY_INTERVAL is 0.
    Raises :class:`~crawler.notify.deliver.TargetError` for a malformed target table."""
    deliverer = Deliverer.from_settings(settings)
    if deliverer.config.interval <= 0:
        return None
    runner = BackgroundDelivery(deliverer, deliverer.config.interval, deliverer.config.close_wait)
    runner.start()
    say(f"delivering notifications every {deliverer.config.interval:g} s from {deliverer.outbox.root}")
    return runner
