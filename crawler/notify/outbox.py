"""The notification outbox: every notification an alert owes, on disk, until it is delivered or given up on.

Documentation: docs/notify.md. Layout under ``<data dir>/notify/``:

* ``pending/<stream>.<created µs>.<nid>.json``: one file per notification (one alert for one target). A *stream* is
  one watch and one target (``<watch id>.<target key>``): its notifications are delivered in the order their alerts
  were created, so the realert window and digests are decided the same way whenever the target comes back.
* ``delivered.jsonl``: one line per notification delivered (or suppressed by the realert window), appended and
  fsynced before the pending file is removed; a notification found there is never sent again.
* ``dead/``: notifications whose target kept failing for ``DARKCRAWL_NOTIFY_DEAD_AFTER`` days (``retry-dead``
  puts them back).
* ``state/<stream>.json``: the stream's failures, next retry time, last notified alert, alerts it suppressed.
* ``locks/<stream>.lock``: held (``flock``) by the one process delivering that stream; the kernel releases it when
  the process dies, so a killed deliverer blocks nothing and its notifications are still in ``pending/``.

Why files and not SQLite: a notification is written once and then only moved or removed, so a file with an atomic
rename is all the transaction it needs; the directory is readable by hand when a target misbehaves at 3 a.m.; and a
file per stream lock lets a crawl, the scheduler and ``notify flush`` deliver different watches at the same time
without a database-wide write lock. Every write is: temporary file, ``fsync``, ``rename``, ``fsync`` of the
directory; a full disk is an :class:`OutboxFullError` saying so, with nothing half-written left behind.

Offers: :class:`Outbox`, :class:`Notification`, :class:`StreamState`, :class:`OutboxStatus`,
:class:`OutboxFullError`, :func:`notification_id`.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from crawler.durable import append_durably
from crawler.errors import ServiceError
from crawler.paths import data_dir, ensure_private_dir

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

MAX_MATCHES = 10  # matches kept per alert in a notification (the alert in Elasticsearch keeps them all)
MAX_SUPPRESSED_LISTED = 20  # suppressed alerts a stream remembers by URL for its next message (all are counted)


class OutboxFullError(ServiceError):
    """The outbox's disk is full: a notification could not be kept."""


class WatchLike(Protocol):
    """What the outbox reads of a watch (``crawler.watch.model.Watch``)."""

    id: str
    name: str
    kind: str
    severity: str
    owner: str
    tags: list[str]
    targets: list[str]
    realert_seconds: int
    digest_seconds: int


def notification_id(alert_id: str, target: str) -> str:
    """The stable id of the notification of *alert_id* to *target*: the same alert never makes two."""
    return hashlib.sha256(f"{alert_id}\0{target}".encode()).hexdigest()[:32]


def target_key(target: str) -> str:
    return hashlib.sha256(target.encode()).hexdigest()[:12]


def epoch(value: Any, default: float) -> float:
    """Seconds since the epoch of an ISO 8601 date (or a number); *default* when missing or unreadable."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return default
    return default


@dataclass
class Notification:
    """One alert owed to one target."""

    nid: str
    stream: str
    target: str  # as the watch names it: an Apprise URL or a name in DARKCRAWL_NOTIFY_TARGETS (secrets: never log)
    watch: dict[str, Any]  # id, name, kind, severity, owner, tags, realert_seconds, digest_seconds
    alert: dict[str, Any]  # alert_id, page, matches (at most MAX_MATCHES), clone, first_seen, created_at, source
    created_at: float  # when the alert was created (orders the stream; realert and digest windows count from it)
    enqueued_at: float
    revived_at: float | None = None  # set by retry-dead: the dead-letter clock starts again
    dead_reason: str | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def file_name(self) -> str:
        return f"{self.stream}.{round(self.created_at * 1_000_000):017d}.{self.nid}.json"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], path: Path | None = None) -> Notification:
        known: dict[str, Any] = {name: data.get(name) for name in cls.__dataclass_fields__ if name != "path"}
        return cls(**known, path=path)


@dataclass
class StreamState:
    """Delivery state of one stream (one watch, one target)."""

    watch: str = ""  # watch id and name, for status
    target: str = ""  # the target as shown to people (a name, or the URL masked)
    failures: int = 0  # consecutive failed attempts (the backoff grows with them)
    failed_attempts: int = 0  # all failed attempts ever (status, Prometheus)
    next_attempt_at: float = 0.0
    last_error: str | None = None  # masked: never a secret
    last_notified_at: float | None = None  # created_at of the last alert notified (the realert window counts from it)
    suppressed: list[dict[str, Any]] = field(default_factory=list)  # within the window, since the last message
    suppressed_count: int = 0


@dataclass
class OutboxStatus:
    """What ``darkcrawl notify status`` and ``darkcrawl status`` show, and what Prometheus reads."""

    path: str
    pending: int
    delivered: int
    suppressed: int
    failed_attempts: int
    dead: int
    oldest_pending_seconds: float | None
    failing: list[dict[str, Any]]  # streams whose last attempt failed: watch, target key, failures, next retry, error

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:64] or "_"


def _alert_summary(alert_doc: dict[str, Any]) -> dict[str, Any]:
    page = alert_doc.get("page") or {}
    return {
        "alert_id": alert_doc.get("alert_id"),
        "page": {key: page.get(key) for key in ("id", "url", "site", "title", "language")},
        "matches": list(alert_doc.get("matches") or [])[:MAX_MATCHES],
        "match_count": len(alert_doc.get("matches") or []),
        "clone": alert_doc.get("clone"),
        "first_seen": alert_doc.get("first_seen"),
        "created_at": alert_doc.get("created_at"),
        "source": alert_doc.get("source"),
        "crawl_id": alert_doc.get("crawl_id"),
    }


class Outbox:
    def __init__(self, root: Path, default_targets: Sequence[str] = ()):
        self.root = root
        self.pending_dir = root / "pending"
        self.dead_dir = root / "dead"
        self.state_dir = root / "state"
        self.lock_dir = root / "locks"
        self.tmp_dir = root / "tmp"
        self.delivered_path = root / "delivered.jsonl"
        self.default_targets = list(default_targets)
        self._delivered: dict[str, str] = {}  # nid -> status ("delivered" | "suppressed"), read from the log
        self._delivered_offset = 0
        self._index_lock = threading.Lock()  # several delivery threads share one outbox

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Outbox:
        return cls(data_dir(settings) / "notify", settings.getlist("DARKCRAWL_NOTIFY_DEFAULT_TARGETS"))

    def ensure_dirs(self) -> None:
        for directory in (self.root, self.pending_dir, self.dead_dir, self.state_dir, self.lock_dir, self.tmp_dir):
            ensure_private_dir(directory)

    # --- writing ----------------------------------------------------------------------------------------------------
    def _full(self, exc: OSError, what: str) -> OutboxFullError:
        return OutboxFullError(
            f"no space left on the device of the notification outbox {self.root} ({what} not kept): free disk "
            "space or move DARKCRAWL_DATA_DIR; the alert itself is in Elasticsearch (darkcrawl alerts list)"
        )

    def _write_atomic(self, path: Path, data: dict[str, Any], what: str, sync_dir: bool = True) -> None:
        """Write *data* to *path* so that it is either wholly there, durably, or not there at all. Without
        *sync_dir*, a power cut may leave the previous version (fine for the streams' state, not for a notification)."""
        payload = (json.dumps(data, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        temporary = self.tmp_dir / f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, path)
            if sync_dir:
                self._fsync_dir(path.parent)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise self._full(exc, what) from None
            raise

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def targets_of(self, watch: WatchLike) -> list[str]:
        return list(watch.targets or self.default_targets)

    def enqueue(self, alert_doc: dict[str, Any], watch: WatchLike) -> list[str]:
        """Queue the notifications of a new alert, one per target of *watch*, durably before returning; return their
        ids (none when the watch has no target and no default target is set). Idempotent: an alert queued, delivered
        or dead already is not queued again. Raises :class:`OutboxFullError` when the disk is full."""
        targets = self.targets_of(watch)
        if not targets:
            return []
        self.ensure_dirs()
        now = time.time()
        created = epoch(alert_doc.get("created_at"), now)
        snapshot = {
            "id": watch.id,
            "name": watch.name,
            "kind": watch.kind,
            "severity": watch.severity,
            "owner": watch.owner,
            "tags": list(watch.tags or []),
            "realert_seconds": int(watch.realert_seconds or 0),
            "digest_seconds": int(watch.digest_seconds or 0),
        }
        alert = _alert_summary(alert_doc)
        queued = []
        for target in dict.fromkeys(targets):
            nid = notification_id(str(alert_doc.get("alert_id")), target)
            if self.known(nid):
                continue
            notification = Notification(
                nid, f"{_safe(watch.id)}.{target_key(target)}", target, snapshot, alert, created, now
            )
            self._write_atomic(self.pending_dir / notification.file_name, notification.to_json(),
                               f"notification of alert {alert['alert_id']}", sync_dir=False)
            queued.append(nid)
        if queued:
            self._fsync_dir(self.pending_dir)  # once for all the targets: durable before returning
        return queued

    # --- reading ----------------------------------------------------------------------------------------------------
    def _names(self, directory: Path, suffix: str = ".json") -> list[str]:
        try:
            return sorted(name for name in os.listdir(directory) if name.endswith(suffix))
        except FileNotFoundError:
            return []

    def known(self, nid: str) -> bool:
        tail = f".{nid}.json"
        return (
            any(name.endswith(tail) for name in self._names(self.pending_dir))
            or any(name.endswith(tail) for name in self._names(self.dead_dir))
            or self.delivered_status(nid) is not None
        )

    def streams(self) -> list[str]:
        """Streams with pending notifications, in name order."""
        return sorted({name.rsplit(".", 3)[0] for name in self._names(self.pending_dir)})

    def _read(self, path: Path) -> Notification | None:
        try:
            return Notification.from_json(json.loads(path.read_text(encoding="utf-8")), path)
        except FileNotFoundError:
            return None  # delivered or moved by another process meanwhile

    def pending(self, stream: str | None = None) -> list[Notification]:
        """Pending notifications (of *stream*), oldest alert first."""
        prefix = f"{stream}." if stream else ""
        found = [self._read(self.pending_dir / name) for name in self._names(self.pending_dir)
                 if name.startswith(prefix)]
        return sorted((item for item in found if item is not None), key=lambda item: (item.created_at, item.nid))

    def dead(self) -> list[Notification]:
        found = [self._read(self.dead_dir / name) for name in self._names(self.dead_dir)]
        return [item for item in found if item is not None]

    def refresh_delivered(self) -> None:
        """Read the lines other processes appended to the delivered log since the last look."""
        with self._index_lock:
            try:
                with self.delivered_path.open("rb") as handle:
                    handle.seek(self._delivered_offset)
                    data = handle.read()
            except FileNotFoundError:
                return
            end = data.rfind(b"\n") + 1  # a line still being written is read next time
            for line in data[:end].splitlines():
                try:
                    record = json.loads(line)
                    self._delivered[record["nid"]] = record.get("status", "delivered")
                except (ValueError, KeyError, TypeError):
                    continue  # a torn line of a crash: skipped
            self._delivered_offset += end

    def pending_mtime(self) -> int:
        """Changes whenever a notification is queued or removed: a cheap "anything new?" for delivery loops."""
        try:
            return os.stat(self.pending_dir).st_mtime_ns
        except FileNotFoundError:
            return 0

    def delivered_status(self, nid: str) -> str | None:
        if nid not in self._delivered:
            self.refresh_delivered()
        return self._delivered.get(nid)

    # --- state and locks ----------------------------------------------------------------------------------------------
    @contextmanager
    def lock(self, stream: str) -> Iterator[bool]:
        """Hold *stream*'s lock if no other process does; yields whether it is held."""
        self.ensure_dirs()
        handle = (self.lock_dir / f"{stream}.lock").open("a")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            handle.close()  # releases the lock

    def read_state(self, stream: str) -> StreamState:
        try:
            data = json.loads((self.state_dir / f"{stream}.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return StreamState()
        return StreamState(**{name: data[name] for name in StreamState.__dataclass_fields__ if name in data})

    def write_state(self, stream: str, state: StreamState) -> None:
        self._write_atomic(self.state_dir / f"{stream}.json", asdict(state), f"state of {stream}", sync_dir=False)

    # --- moving -------------------------------------------------------------------------------------------------------
    def record(self, notifications: Sequence[Notification], status: str, target: str, message_id: str,
               attempts: int, now: float) -> None:
        """Log *notifications* as done (``delivered`` or ``suppressed``, fsynced), then remove them from pending."""
        lines = "".join(
            json.dumps({
                "nid": item.nid, "status": status, "alert_id": item.alert.get("alert_id"), "watch_id": item.watch["id"],
                "target": target, "message_id": message_id, "created_at": item.created_at,
                "enqueued_at": item.enqueued_at, "done_at": now, "attempts": attempts,
            }) + "\n"
            for item in notifications
        ).encode("utf-8")
        self.ensure_dirs()
        try:
            append_durably(self.delivered_path, lines)  # O_APPEND keeps concurrent writers' lines whole
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise self._full(exc, "delivered log") from None
            raise
        for item in notifications:
            self._delivered[item.nid] = status
            self.discard(item)

    def discard(self, notification: Notification) -> None:
        if notification.path is not None:
            notification.path.unlink(missing_ok=True)

    def bury(self, notification: Notification, reason: str) -> None:
        """Move *notification* to ``dead/`` with *reason* (masked)."""
        notification.dead_reason = reason
        self._write_atomic(self.dead_dir / notification.file_name, notification.to_json(), "dead letter")
        self.discard(notification)

    def retry_dead(self) -> int:
        """Put every dead notification back in pending, its dead-letter clock restarted; return how many."""
        self.ensure_dirs()
        now = time.time()
        count = 0
        streams = set()
        for notification in self.dead():
            path = notification.path
            notification.revived_at = now
            notification.dead_reason = None
            self._write_atomic(self.pending_dir / notification.file_name, notification.to_json(), "notification")
            if path is not None:
                path.unlink(missing_ok=True)
            streams.add(notification.stream)
            count += 1
        for stream in streams:
            with self.lock(stream) as held:
                if held:
                    state = self.read_state(stream)
                    state.failures, state.next_attempt_at = 0, 0.0
                    self.write_state(stream, state)
        return count

    # --- status -------------------------------------------------------------------------------------------------------
    def status(self, now: float | None = None) -> OutboxStatus:
        now = time.time() if now is None else now
        self.refresh_delivered()
        names = self._names(self.pending_dir)
        oldest = None
        if names:
            created = [int(name.rsplit(".", 3)[1]) / 1_000_000 for name in names]
            oldest = max(now - min(created), 0.0)
        failed_attempts = 0
        failing = []
        pending_streams = {name.rsplit(".", 3)[0] for name in names}
        for name in self._names(self.state_dir):
            stream = name[: -len(".json")]
            state = self.read_state(stream)
            failed_attempts += state.failed_attempts
            if state.failures and stream in pending_streams:
                failing.append({
                    "stream": stream, "watch": state.watch, "target": state.target, "failures": state.failures,
                    "next_attempt_at": state.next_attempt_at, "last_error": state.last_error,
                })
        statuses = list(self._delivered.values())
        return OutboxStatus(
            path=str(self.root),
            pending=len(names),
            delivered=statuses.count("delivered"),
            suppressed=statuses.count("suppressed"),
            failed_attempts=failed_attempts,
            dead=len(self._names(self.dead_dir)),
            oldest_pending_seconds=oldest,
            failing=failing,
        )
