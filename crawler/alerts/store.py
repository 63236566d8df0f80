"""Alerts in Elasticsearch: writing them exactly once, reading them, and changing their state. See docs/schema.md
("Alerts") and README "Watch and warn".

* :class:`AlertWriter` -- async, bulk: ``create`` each alert; a 409 means it exists and only its ``last_seen`` moves.
* :class:`AlertRecorder` -- what the crawl and the hunt call: write, hand each NEW alert to the notification outbox,
  and keep the batch in a spool file when Elasticsearch is away (replayed later: same ids, so nothing doubles).
* :func:`search_alerts`, :func:`get_alert`, :func:`change_state` -- blocking, for ``darkcrawl alerts``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.alerts.documents import ACKNOWLEDGED, DISMISSED
from crawler.backoff import backoff_delay
from crawler.errors import ServiceError, UsageError
from crawler.es.client import is_transient
from crawler.items import utc_timestamp

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from crawler.sink.spool import Spool
    from crawler.watch.model import Watch

logger = logging.getLogger(__name__)

Stats = Callable[[str, int], None]
ID_PREFIX = re.compile(r"[0-9a-f]{8,64}")


@dataclass
class WriteResult:
    """What one :meth:`AlertWriter.write` did: the documents created (new alerts), how many existed already (their
    ``last_seen`` moved), and the documents Elasticsearch refused for good (with the reason)."""

    created: list[dict[str, Any]] = field(default_factory=list)
    existing: int = 0
    refused: list[tuple[dict[str, Any], Any]] = field(default_factory=list)


class AlertWriter:
    """Bulk-writes alert documents through the alerts alias with the async client, retrying transient failures.

    Raises the client's error when Elasticsearch stays unreachable after *max_retries* (the caller spools)."""

    def __init__(self, client: Any, alias: str, max_retries: int = 3):
        self.client = client
        self.alias = alias
        self.max_retries = max_retries

    async def write(self, documents: list[dict[str, Any]]) -> WriteResult:
        result = WriteResult()
        pending = {document["alert_id"]: document for document in documents}
        existing: dict[str, str] = {}  # alert id -> last_seen to set
        for attempt in range(self.max_retries + 1):
            operations: list[Any] = []
            for doc_id, document in pending.items():
                operations += [{"create": {"_index": self.alias, "_id": doc_id}}, document]
            try:
                response = await self.client.bulk(operations=operations, refresh=False)
            except Exception:
                if attempt == self.max_retries:
                    raise
                await asyncio.sleep(backoff_delay(attempt + 1))
                continue
            retry: dict[str, dict[str, Any]] = {}
            for item in response["items"]:
                outcome = item["create"]
                document = pending[outcome["_id"]]
                status = outcome.get("status", 500)
                if status < 300:
                    result.created.append(document)
                elif status == 409:
                    existing[outcome["_id"]] = document["last_seen"]
                elif is_transient(outcome):
                    retry[outcome["_id"]] = document
                else:
                    result.refused.append((document, outcome.get("error")))
            pending = retry
            if not pending:
                break
            if attempt < self.max_retries:
                await asyncio.sleep(backoff_delay(attempt + 1))
        for document in pending.values():
            result.refused.append((document, {"type": "retries_exhausted", "reason": "transient errors persisted"}))
        if existing:
            await self._touch(existing)
            result.existing = len(existing)
        return result

    async def seen_again(self, pages: dict[str, str], now: str) -> int:
        """Move ``last_seen`` of the alerts of pages found again with the same content (*pages*: page id -> content
        hash), which the crawl does not evaluate again: the alert's content is still online. Returns how many."""
        if not pages:
            return 0
        response = await self.client.search(
            index=self.alias, size=10_000, source=["page.id", "page.content_sha256"],
            query={"bool": {"filter": [{"terms": {"page.id": list(pages)}},
                                       {"terms": {"page.content_sha256": sorted(set(pages.values()))}}]}},
        )
        hits = [hit for hit in response["hits"]["hits"]
                if pages.get(hit["_source"]["page"]["id"]) == hit["_source"]["page"]["content_sha256"]]
        if hits:
            await self._touch({hit["_id"]: now for hit in hits})
        return len(hits)

    async def _touch(self, last_seen: dict[str, str]) -> None:
        """Move ``last_seen`` of alerts that exist (a partial update: the state an analyst set is left alone)."""
        operations: list[Any] = []
        for doc_id, seen in last_seen.items():
            operations += [{"update": {"_index": self.alias, "_id": doc_id, "retry_on_conflict": 5}},
                           {"doc": {"last_seen": seen}}]
        response = await self.client.bulk(operations=operations, refresh=False)
        if response.get("errors"):
            failed = [item["update"].get("error") for item in response["items"]
                      if item["update"].get("status", 500) >= 300]
            logger.warning("last_seen of %d existing alerts not updated: %s", len(failed), failed[:1])


@dataclass
class RecordResult:
    new: list[dict[str, Any]] = field(default_factory=list)
    existing: int = 0
    spooled: int = 0
    refused: int = 0
    queued: int = 0  # notifications handed to the outbox (one per new alert and target)


class AlertRecorder:
    """Writes alerts and notifies the new ones, the same way for the crawl and the hunt.

    *outbox* has ``enqueue(alert_doc, watch)`` (crawler.notify.outbox.Outbox) or is None (nobody notified); *watches*
    finds the :class:`Watch` of an alert by id; *spool* keeps a batch Elasticsearch did not take (None: raise)."""

    def __init__(
        self,
        writer: AlertWriter,
        outbox: Any,
        watches: Callable[[str], Watch | None],
        spool: Spool | None = None,
        stats: Stats | None = None,
    ):
        self.writer = writer
        self.outbox = outbox
        self.watches = watches
        self.spool = spool
        self.stats: Stats = stats or (lambda key, count: None)

    async def record(self, documents: list[dict[str, Any]]) -> RecordResult:
        """Write *documents*; enqueue a notification for each one that is new. When Elasticsearch is unreachable,
        the batch goes to the spool (ServiceError without one)."""
        outcome = RecordResult()
        if not documents:
            return outcome
        try:
            written = await self.writer.write(documents)
        except Exception as exc:
            if self.spool is None:
                raise ServiceError(f"Elasticsearch did not take {len(documents)} alerts: {exc}") from None
            self.spool.append(documents)
            logger.warning("Elasticsearch unreachable (%s): %d alerts kept in %s, written at the next crawl or hunt",
                           exc, len(documents), self.spool.path)
            self.stats("darkcrawl/alerts/spooled", len(documents))
            outcome.spooled = len(documents)
            return outcome
        for document, error in written.refused:
            reason = error.get("reason") if isinstance(error, dict) else error
            logger.error("Elasticsearch refused alert %s (watch %s, %s): %s", document["alert_id"],
                         document["watch"]["id"], document["page"]["url"], reason)
        # each notification is an fsynced file (milliseconds): off the event loop, so a crawl's reactor never waits
        outcome.queued = await asyncio.to_thread(self._notify, written.created)
        outcome.new, outcome.existing, outcome.refused = written.created, written.existing, len(written.refused)
        self.stats("darkcrawl/alerts/new", len(written.created))
        self.stats("darkcrawl/alerts/existing", written.existing)
        if written.refused:
            self.stats("darkcrawl/alerts/refused", len(written.refused))
        return outcome

    def _notify(self, created: list[dict[str, Any]]) -> int:
        """Hand each new alert to the outbox; return how many notifications it queued. When the outbox cannot keep
        one (its disk is full), the alerts not yet handed over are named in the log (they are in the index, state
        new) and the error is raised again."""
        queued = 0
        if self.outbox is None:
            return queued
        for number, document in enumerate(created):
            watch = self.watches(document["watch"]["id"])
            if watch is None:  # removed since: the alert stays, nobody to tell
                continue
            try:
                queued += len(self.outbox.enqueue(document, watch) or ())
            except Exception:
                missed = [alert["alert_id"] for alert in created[number:]]
                self.stats("darkcrawl/alerts/not_notified", len(missed))
                logger.error("%d new alerts are in the index but nobody was notified of them: %s", len(missed),
                             ", ".join(missed))
                raise
        return queued

    async def replay(self) -> int:
        """Write what the spool kept while Elasticsearch was away; return how many alerts were in it. The spool is
        kept when Elasticsearch is still away."""
        if self.spool is None:
            return 0
        documents = self.spool.begin_replay()
        if not documents:
            return 0
        written = await self.writer.write(documents)  # raises when still away: the spool keeps them
        self.spool.finish_replay()
        await asyncio.to_thread(self._notify, written.created)
        self.stats("darkcrawl/alerts/new", len(written.created))
        return len(documents)


# --- reading and changing state (blocking, for the CLI) -----------------------------------------------------------


@dataclass
class AlertFilters:
    state: str | None = None
    watch: str | None = None
    severity: str | None = None
    since: str | None = None


def alerts_query(filters: AlertFilters) -> dict[str, Any]:
    """The bool query of ``darkcrawl alerts list``'s filters (``since``: first seen at or after)."""
    clauses: list[dict[str, Any]] = []
    if filters.state:
        clauses.append({"term": {"state": filters.state}})
    if filters.watch:
        clauses.append({"term": {"watch.id": filters.watch}})
    if filters.severity:
        clauses.append({"term": {"watch.severity": filters.severity}})
    if filters.since:
        clauses.append({"range": {"first_seen": {"gte": filters.since}}})
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


def search_alerts(client: Elasticsearch, alias: str, filters: AlertFilters, size: int) -> tuple[int, list[dict]]:
    """(total, alerts newest first) matching *filters*. Raises UsageError for a ``since`` that is no date."""
    from elasticsearch import BadRequestError

    try:
        response = client.search(index=alias, query=alerts_query(filters), size=size,
                                 sort=[{"first_seen": "desc"}, {"alert_id": "asc"}], track_total_hits=True)
    except BadRequestError:
        if filters.since:
            raise UsageError(f"--since {filters.since!r} is not a date Elasticsearch reads: give 2026-12-01 or "
                             "now-7d") from None
        raise
    hits = response["hits"]["hits"]
    return int(response["hits"]["total"]["value"]), [hit["_source"] for hit in hits]


def resolve_id(client: Elasticsearch, alias: str, given: str) -> str:
    """The full alert id for *given* (the id, or its first 8+ hex characters). Raises UsageError when it is no id,
    no alert has it, or several do."""
    value = given.strip().lower()
    if not ID_PREFIX.fullmatch(value):
        raise UsageError(f"{given!r} is not an alert id: give the 64 hex characters or at least the first 8 "
                         "(darkcrawl alerts list shows them)")
    if len(value) == 64:
        return value
    response = client.search(index=alias, query={"prefix": {"alert_id": value}}, size=2, source=False)
    ids = [hit["_id"] for hit in response["hits"]["hits"]]
    if not ids:
        raise UsageError(f"no alert id starts with {value}: check it with darkcrawl alerts list")
    if len(ids) > 1:
        raise UsageError(f"several alert ids start with {value}: give more characters")
    return str(ids[0])


def get_alert(client: Elasticsearch, alias: str, given: str) -> dict[str, Any]:
    """The alert *given* names (an id or a unique prefix). Raises UsageError when there is none."""
    from elasticsearch import NotFoundError

    doc_id = resolve_id(client, alias, given)
    try:
        return dict(client.get(index=alias, id=doc_id)["_source"])
    except NotFoundError:
        raise UsageError(f"no alert {doc_id}: check it with darkcrawl alerts list") from None


def change_state(
    client: Elasticsearch, alias: str, given: str, state: str, by: str, note: str | None, attempts: int = 5
) -> dict[str, Any]:
    """Set the state of one alert (``acknowledged`` or ``dismissed``), who did it and why, and append it to the
    history. Optimistic concurrency: re-read and retry when the alert changed meanwhile (a crawl moving its
    ``last_seen``, another analyst). Returns the alert as stored. Raises UsageError (no such alert, bad state)."""
    from elasticsearch import ConflictError, NotFoundError

    if state not in (ACKNOWLEDGED, DISMISSED):
        raise UsageError(f"state {state!r}: alerts can be set to {ACKNOWLEDGED} or {DISMISSED}")
    doc_id = resolve_id(client, alias, given)
    for _attempt in range(attempts):
        try:
            stored = client.get(index=alias, id=doc_id)
        except NotFoundError:
            raise UsageError(f"no alert {doc_id}: check it with darkcrawl alerts list") from None
        alert = dict(stored["_source"])
        now = utc_timestamp()
        change = {"state": state, "state_changed_by": by, "state_changed_at": now, "state_note": note,
                  "history": [*alert.get("history", []), {"state": state, "by": by, "at": now, "note": note}]}
        try:
            client.update(index=alias, id=doc_id, doc=change, if_seq_no=stored["_seq_no"],
                          if_primary_term=stored["_primary_term"], refresh="wait_for")
        except ConflictError:
            continue
        return alert | change
    raise ServiceError(f"alert {doc_id} kept changing while its state was set; try again")

