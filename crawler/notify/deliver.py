"""Delivering the outbox with Apprise: realert windows, digests, retries with backoff, dead letters.

Documentation: docs/notify.md. One delivery round (:meth:`Deliverer.deliver`) visits every stream (one watch, one
target) with pending notifications whose lock it gets (another process delivering it is left alone) and whose
backoff has passed, and works through its notifications oldest first:

* **realert** (``realert_seconds`` of the watch): an alert created within that window after the last notified one
  is not sent; it is logged as ``suppressed``, counted, and listed in the next message of the stream;
* **digest** (``digest_seconds`` > 0): one message per window (from the oldest pending alert, ``max(digest,
  realert)`` long), sent once the window has ended, listing its alerts;
* a failed send stops the stream (order is kept) until ``retry_base * 2**(failures-1)`` seconds, capped at
  ``retry_max``, with jitter (50-100 %), have passed; notifications still undelivered ``dead_after`` seconds after
  they were queued go to ``dead/`` once their target fails again.

Apprise is synchronous: call :meth:`Deliverer.deliver` from a thread (:mod:`crawler.notify.runner`).

Offers: :class:`NotifyConfig`, :class:`Deliverer`, :class:`DeliveryReport`, :class:`AppriseSender`,
:func:`resolve_target`, :func:`check_target`, :class:`TargetError`. The backoff: :func:`crawler.backoff.backoff_delay`.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crawler import settings as default_settings
from crawler.backoff import backoff_delay
from crawler.errors import UsageError
from crawler.notify.message import render
from crawler.notify.outbox import MAX_SUPPRESSED_LISTED, Notification, Outbox, OutboxFullError, StreamState
from crawler.notify.secrets import install_log_masking, register_secrets, scrub
from crawler.watch.model import mask_target

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

# The Apprise schemes darkcrawl documents and tests; others Apprise knows are accepted with a warning.
SUPPORTED_SCHEMES = {"mailto", "mailtos", "mmost", "mmosts", "workflow", "workflows", "slack", "matrix", "matrixs",
                     "json", "jsons"}
HEADER_SCHEMES = {"mailto", "mailtos", "json", "jsons"}  # Apprise sends "+Name=value" URL arguments as headers
NOTIFICATION_HEADER = "X-Darkcrawl-Notification"  # same value on a resend: receivers can drop the duplicate


class TargetError(UsageError):
    """A watch names a target that is neither a known name nor an Apprise URL."""


@dataclass
class NotifyConfig:
    targets: dict[str, str] = field(default_factory=dict)  # name -> Apprise URL
    interval: float = default_settings.DARKCRAWL_NOTIFY_INTERVAL
    retry_base: float = default_settings.DARKCRAWL_NOTIFY_RETRY_BASE
    retry_max: float = default_settings.DARKCRAWL_NOTIFY_RETRY_MAX
    dead_after: float = default_settings.DARKCRAWL_NOTIFY_DEAD_AFTER * 86400.0  # seconds (the setting: days)
    timeout: float = default_settings.DARKCRAWL_NOTIFY_TIMEOUT
    close_wait: float = default_settings.DARKCRAWL_NOTIFY_CLOSE_WAIT
    workers: int = default_settings.DARKCRAWL_NOTIFY_WORKERS  # streams delivered at once

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> NotifyConfig:
        targets = settings.getdict("DARKCRAWL_NOTIFY_TARGETS")
        bad = [name for name, url in targets.items() if not isinstance(url, str) or "://" not in url]
        if bad:
            raise TargetError(
                f"DARKCRAWL_NOTIFY_TARGETS: target(s) {sorted(bad)} are not Apprise URLs (e.g. "
                '"mailtos://user:password@smtp.example.org?to=soc@example.org"); see docs/notify.md'
            )
        return cls(
            targets=dict(targets),
            interval=settings.getfloat("DARKCRAWL_NOTIFY_INTERVAL"),
            retry_base=max(settings.getfloat("DARKCRAWL_NOTIFY_RETRY_BASE"), 0.01),
            retry_max=max(settings.getfloat("DARKCRAWL_NOTIFY_RETRY_MAX"), 0.01),
            dead_after=settings.getfloat("DARKCRAWL_NOTIFY_DEAD_AFTER") * 86400.0,
            timeout=max(settings.getfloat("DARKCRAWL_NOTIFY_TIMEOUT"), 0.1),
            close_wait=settings.getfloat("DARKCRAWL_NOTIFY_CLOSE_WAIT"),
            workers=max(settings.getint("DARKCRAWL_NOTIFY_WORKERS"), 1),
        )


def resolve_target(reference: str, named: dict[str, str]) -> str:
    """The Apprise URL of *reference*: a name in DARKCRAWL_NOTIFY_TARGETS, or a URL. Raises :class:`TargetError`."""
    if reference in named:
        url = named[reference]
    elif "://" in reference:
        url = reference
    else:
        raise TargetError(
            f"unknown notification target {reference!r}: name one of DARKCRAWL_NOTIFY_TARGETS "
            f"({', '.join(sorted(named)) or 'none defined'}) or give an Apprise URL (docs/notify.md)"
        )
    register_secrets(url)
    return url


def describe_target(reference: str) -> str:
    """How a target is shown to people: its name, or its URL masked."""
    return mask_target(reference)


def check_target(reference: str, named: dict[str, str]) -> str:
    """Check that *reference* names a target Apprise can send to; return how to show it. For ``watch add``.
    Raises :class:`TargetError` (the URL masked) otherwise."""
    import apprise

    url = resolve_target(reference, named)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "msteams":
        raise TargetError(
            f"target {describe_target(reference)}: Microsoft retired Teams connectors and Apprise 2 dropped "
            "msteams://; use a Teams workflow: workflows://HOST:PORT/WORKFLOW/SIGNATURE (docs/notify.md)"
        )
    if apprise.Apprise.instantiate(url) is None:
        raise TargetError(
            f"target {describe_target(reference)} is not an Apprise URL Apprise can use (scheme {scheme!r}); "
            "see docs/notify.md for mailto://, mmost://, workflows://, slack://, matrix://, json:// examples"
        )
    if scheme not in SUPPORTED_SCHEMES:
        logger.warning("target %s: scheme %s works with Apprise but is not tested by darkcrawl",
                       describe_target(reference), scheme)
    return describe_target(reference)


def with_arguments(url: str, extra: dict[str, str]) -> str:
    """*url* with Apprise URL arguments added (``+Header=value`` becomes a header for mail and JSON targets)."""
    if not extra:
        return url
    base, hash_mark, fragment = url.partition("#")
    joiner = "&" if "?" in base else "?"
    added = "&".join(f"{key}={value}" for key, value in extra.items())
    return f"{base}{joiner}{added}{hash_mark}{fragment}"


class AppriseSender:
    """Sends one message to one Apprise URL; returns ``(True, "")`` or ``(False, why)`` with secrets masked."""

    def __init__(self, timeout: float = 15.0):
        self.timeout = timeout
        install_log_masking()

    def __call__(self, url: str, title: str, body: str, message_id: str) -> tuple[bool, str]:
        import apprise

        scheme = urlsplit(url).scheme.lower()
        extra = {"cto": f"{self.timeout:g}", "rto": f"{self.timeout:g}"}
        if scheme in HEADER_SCHEMES:
            extra[f"+{NOTIFICATION_HEADER}"] = message_id
        if scheme in ("json", "jsons"):
            extra[":notification_id"] = message_id
        register_secrets(url)
        notifier = apprise.Apprise()
        if not notifier.add(with_arguments(url, extra)):
            return False, f"Apprise cannot use the URL {mask_target(url)} (see docs/notify.md)"
        with apprise.LogCapture(level=logging.DEBUG, fmt="%(levelname)s %(message)s") as capture:
            try:
                ok = bool(notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))
            except Exception as exc:  # a plugin bug must not stop delivery of the other streams
                return False, scrub(f"{type(exc).__name__}: {exc}")
            captured = capture.getvalue()
        if ok:
            return True, ""
        # the warning says what failed; the DEBUG line after it says why (refused, AUTH, HTTP status)
        lines = [line.split(" ", 1)[1].strip() for line in captured.splitlines()
                 if line.startswith(("WARNING", "ERROR")) or "Exception" in line or "Response Details" in line]
        return False, scrub("; ".join(lines[-3:]) or "Apprise reported a failure")[:500]


Sender = Callable[[str, str, str, str], tuple[bool, str]]


@dataclass
class DeliveryReport:
    delivered: int = 0  # notifications delivered (a digest counts each alert it lists)
    messages: int = 0  # messages sent
    suppressed: int = 0
    failed: int = 0  # failed attempts this round
    dead: int = 0
    busy: int = 0  # streams another process was delivering
    waiting: int = 0  # streams backing off or in an open digest window

    def add(self, other: DeliveryReport) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Deliverer:
    def __init__(
        self,
        outbox: Outbox,
        config: NotifyConfig,
        send: Sender | None = None,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ):
        self.outbox = outbox
        self.config = config
        self.send = send or AppriseSender(config.timeout)
        self.clock = clock
        self.rng = rng

    @classmethod
    def from_settings(cls, settings: BaseSettings, send: Sender | None = None) -> Deliverer:
        return cls(Outbox.from_settings(settings), NotifyConfig.from_settings(settings), send)

    def deliver(self, force: bool = False, deadline: float | None = None) -> DeliveryReport:
        """One round over every stream with pending notifications, ``workers`` streams at a time (a slow SMTP
        server does not hold up a webhook). *force*: ignore the backoff (``notify flush``). *deadline*
        (``time.monotonic()``): start no stream after it. Raises :class:`OutboxFullError`."""
        streams = self.outbox.streams()
        if self.config.workers <= 1 or len(streams) <= 1:
            reports = [self._one(stream, force, deadline) for stream in streams]
        else:
            with ThreadPoolExecutor(min(self.config.workers, len(streams)), "darkcrawl-notify") as pool:
                reports = list(pool.map(lambda stream: self._one(stream, force, deadline), streams))
        report = DeliveryReport()
        for item in reports:
            report.add(item)
        return report

    def _one(self, stream: str, force: bool, deadline: float | None) -> DeliveryReport:
        if deadline is not None and time.monotonic() > deadline:
            return DeliveryReport()
        with self.outbox.lock(stream) as held:
            if not held:
                return DeliveryReport(busy=1)
            try:
                return self.deliver_stream(stream, force)
            except OutboxFullError:
                raise
            except Exception as exc:  # one broken stream (unreadable file) must not stop the others
                logger.error("notifications of %s not delivered: %s", stream, scrub(str(exc)))
                return DeliveryReport()

    def deliver_stream(self, stream: str, force: bool = False) -> DeliveryReport:
        """Deliver what is due in *stream*; the caller holds its lock."""
        report = DeliveryReport()
        now = self.clock()
        entries = []
        for item in self.outbox.pending(stream):
            if self.outbox.delivered_status(item.nid) is not None:
                self.outbox.discard(item)  # logged as done by a process killed before it removed the file
            else:
                entries.append(item)
        if not entries:
            return report
        state = self.outbox.read_state(stream)
        state.watch = f"{entries[-1].watch.get('id')} ({entries[-1].watch.get('name')})"
        state.target = describe_target(entries[0].target)
        if not force and now < state.next_attempt_at:
            report.waiting += 1
            return report
        watch = entries[-1].watch
        digest = int(watch.get("digest_seconds") or 0)
        realert = int(watch.get("realert_seconds") or 0)
        shown = describe_target(entries[0].target)
        try:
            url = resolve_target(entries[0].target, self.config.targets)
        except TargetError as exc:
            self.failed(stream, state, entries, str(exc), now, report)
            return report
        if digest > 0:
            self.deliver_digests(stream, state, entries, url, shown, max(digest, realert), now, report)
        else:
            self.deliver_each(stream, state, entries, url, shown, realert, now, report)
        return report

    def deliver_each(self, stream: str, state: StreamState, entries: list[Notification], url: str, shown: str,
                     realert: int, now: float, report: DeliveryReport) -> None:
        for item in entries:
            last = state.last_notified_at
            # abs(): an alert created just before the last notified one (queued later by a hunt) is inside it too
            if realert > 0 and last is not None and abs(item.created_at - last) < realert:
                self.suppress(stream, state, item, shown, now)
                report.suppressed += 1
                continue
            title, body = render(item.watch, [item.alert], suppressed=state.suppressed,
                                 suppressed_count=state.suppressed_count, suppressed_since=last)
            if not self.attempt(stream, state, [item], url, shown, title, body, item.nid, now, report):
                return
            state.last_notified_at = max(item.created_at, last or 0.0)
            state.suppressed, state.suppressed_count = [], 0
        # once per round, not per message (an fsync each): after a crash mid-round the delivered log still stops
        # every repeat; at worst an alert inside the realert window is sent instead of summarised
        self.outbox.write_state(stream, state)

    def deliver_digests(self, stream: str, state: StreamState, entries: list[Notification], url: str, shown: str,
                        window: int, now: float, report: DeliveryReport) -> None:
        while entries:
            start = entries[0].created_at
            if now < start + window:
                report.waiting += 1
                break
            group = [item for item in entries if item.created_at < start + window]
            entries = entries[len(group):]
            message_id = hashlib.sha256("".join(item.nid for item in group).encode()).hexdigest()[:32]
            title, body = render(group[-1].watch, [item.alert for item in group], digest_window=(start, start + window))
            if not self.attempt(stream, state, group, url, shown, title, body, message_id, now, report):
                return
            state.last_notified_at = group[-1].created_at
        self.outbox.write_state(stream, state)

    def attempt(self, stream: str, state: StreamState, items: list[Notification], url: str, shown: str, title: str,
                body: str, message_id: str, now: float, report: DeliveryReport) -> bool:
        ok, error = self.send(url, title, body, message_id)
        if not ok:
            self.failed(stream, state, items, error, now, report)
            return False
        self.outbox.record(items, "delivered", shown, message_id, state.failures + 1, self.clock())
        logger.info("notified %s of %d alert(s) of watch %s", shown, len(items), items[0].watch.get("name"))
        state.failures, state.next_attempt_at, state.last_error = 0, 0.0, None
        report.delivered += len(items)
        report.messages += 1
        return True

    def suppress(self, stream: str, state: StreamState, item: Notification, shown: str, now: float) -> None:
        alert_id = item.alert.get("alert_id")
        if not any(entry.get("alert_id") == alert_id for entry in state.suppressed):
            if len(state.suppressed) < MAX_SUPPRESSED_LISTED:
                state.suppressed.append({"alert_id": alert_id, "url": (item.alert.get("page") or {}).get("url")})
            state.suppressed_count += 1
            self.outbox.write_state(stream, state)  # first: a crash before the log line does not count it twice
        self.outbox.record([item], "suppressed", shown, "", 0, now)

    def failed(self, stream: str, state: StreamState, items: list[Notification], error: str, now: float,
               report: DeliveryReport) -> None:
        state.failures += 1
        state.failed_attempts += 1
        delay = backoff_delay(state.failures, self.config.retry_base, self.config.retry_max, rng=self.rng)
        state.next_attempt_at = now + delay
        state.last_error = scrub(error)
        report.failed += 1
        shown = describe_target(items[0].target)
        logger.warning("notification to %s failed (%d in a row; next try in %.0f s): %s", shown, state.failures,
                       delay, state.last_error)
        # Everything of this stream queued longer ago than dead_after has waited on a failing target long enough.
        for item in self.outbox.pending(stream):
            queued = max(item.enqueued_at, item.revived_at or 0.0)
            if now - queued >= self.config.dead_after:
                self.outbox.bury(item, f"undelivered after {self.config.dead_after / 86400:g} days: {state.last_error}")
                report.dead += 1
        if report.dead:
            logger.error("%d notification(s) to %s moved to %s after failing for %g days: %s", report.dead, shown,
                         self.outbox.dead_dir, self.config.dead_after / 86400, state.last_error)
        self.outbox.write_state(stream, state)
