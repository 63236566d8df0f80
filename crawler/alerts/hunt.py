"""Retro-hunt: run watches over the pages already indexed (``darkcrawl watch hunt ID [--since]``). See README "Watch
and warn".

The pages index is read in one consistent snapshot (a point in time, ``search_after``), oldest first, each page
is evaluated with the same :class:`WatchSet` and turned into alerts with the same ids as in a crawl
(crawler/alerts/evaluation.py), and the alerts are written with ``create``: an alert the crawl (or an earlier hunt)
already made is not made again, only its ``last_seen`` moves; each new one is handed to the notification outbox.

Offers :func:`run_hunt` and :class:`HuntReport`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from crawler.alerts.documents import HUNT
from crawler.alerts.evaluation import load_watch_inputs, page_alerts
from crawler.alerts.store import AlertRecorder, AlertWriter
from crawler.errors import UsageError
from crawler.items import utc_timestamp
from crawler.watch.model import ACTIVE

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawler.notify.outbox import Outbox
    from crawler.watch.model import Watch

Say = Callable[[str], None]
KEEP_ALIVE = "5m"
# Oldest first, as a crawl met them: a new-site watch fires on the first page of a site, in the hunt as in the crawl.
HUNT_ORDER = [{"first_seen": "asc"}, {"_shard_doc": "asc"}]


@dataclass
class HuntReport:
    """What a hunt did: the watches, pages read, pages that matched, alerts new / already there / refused."""

    watches: list[str]
    since: str | None
    pages: int = 0
    matched_pages: int = 0
    new: int = 0
    existing: int = 0
    refused: int = 0
    notifications_queued: int = 0
    elapsed_seconds: float = 0.0
    new_alert_ids: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        return [
            f"hunt of {', '.join(self.watches)}" + (f" over pages seen since {self.since}" if self.since else ""),
            f"  pages read     {self.pages}",
            f"  pages matched  {self.matched_pages}",
            f"  new alerts     {self.new}",
            f"  already known  {self.existing}",
        ] + ([f"  refused        {self.refused} (see the log)"] if self.refused else []) + (
            [f"  notifications  {self.notifications_queued} queued (sent by a crawl, the scheduler or "
             "darkcrawl notify flush)"] if self.notifications_queued else []
        ) + [f"  took           {self.elapsed_seconds:.1f} s"]


def hunt_query(since: str | None) -> dict[str, Any]:
    """Pages with text (flagged pages keep none), seen at or after *since* when given."""
    clauses: list[dict[str, Any]] = [{"range": {"last_seen": {"gte": since}}}] if since else []
    return {"bool": {"filter": clauses, "must_not": [{"exists": {"field": "review"}}]}}


def run_hunt(settings: BaseSettings, watch_ids: list[str], since: str | None, say: Say) -> HuntReport:
    """Evaluate the watches *watch_ids* (ids or names; paused ones too) over the indexed pages, seen since *since*
    (a date or date math: ``2026-12-01``, ``now-7d``) when given. Returns a :class:`HuntReport`.

    Raises UsageError (unknown watch, bad ``--since``) or ServiceError (Elasticsearch unreachable or refusing)."""
    from crawler.es.schema import ensure_indices
    from crawler.watch.store import WatchStore

    if not watch_ids:
        raise UsageError("name at least one watch to hunt with (darkcrawl watch list shows them)")
    with WatchStore.from_settings(settings) as store:
        watches = [store.get(key) for key in watch_ids]
    # a paused watch can still hunt: it is only kept out of crawls
    watches = list({watch.id: replace(watch, state=ACTIVE) for watch in watches}.values())
    # the alerts alias must exist before the first create: through a missing alias Elasticsearch would make a plain
    # index of that name, which es init then refuses
    ensure_indices(settings, lambda message: None)
    return asyncio.run(_hunt(settings, watches, since, say))


async def _hunt(settings: BaseSettings, watches: list[Watch], since: str | None, say: Say) -> HuntReport:
    from elasticsearch import ApiError, BadRequestError, TransportError

    from crawler.es.client import client_url, es_client, service_error
    from crawler.es.schema import index_names

    names = index_names(settings)
    client = es_client(settings)
    started = time.monotonic()
    report = HuntReport([watch.id for watch in watches], since)
    try:
        try:
            inputs = await load_watch_inputs(client, names, watches, known_before=since, hunt=True)
            recorder = AlertRecorder(AlertWriter(client, names.alerts, settings.getint("DARKCRAWL_ES_MAX_RETRIES")),
                                     _outbox(settings), {watch.id: watch for watch in watches}.get)
            await _scan(client, names.pages, inputs.compile(watches), since, recorder, report,
                        settings.getint("DARKCRAWL_ALERTS_HUNT_BATCH"), say)
            # the hunt is a command an analyst follows with `darkcrawl alerts list`: what it reports must be listable
            # at once, not after the index's next periodic refresh (the crawl's writes do not wait for one)
            await client.indices.refresh(index=names.alerts)
        except BadRequestError as exc:
            if since and "date" in str(exc).lower():
                raise UsageError(
                    f"--since {since!r} is not a date Elasticsearch reads: give 2026-12-01 or now-7d"
                ) from None
            raise service_error(exc, client_url(client)) from None
        except (ApiError, TransportError) as exc:
            raise service_error(exc, client_url(client)) from None
    finally:
        await client.close()
    report.elapsed_seconds = round(time.monotonic() - started, 2)
    return report


def _outbox(settings: BaseSettings) -> Outbox:
    from crawler.notify.outbox import Outbox

    return Outbox.from_settings(settings)


async def _scan(
    client: Any, alias: str, watch_set: Any, since: str | None, recorder: AlertRecorder, report: HuntReport,
    batch: int, say: Say,
) -> None:
    """Read every page of *alias* in one point in time, *batch* at a time, and record the alerts of each batch."""
    pit = (await client.open_point_in_time(index=alias, keep_alive=KEEP_ALIVE))["id"]
    search_after: list[Any] | None = None
    next_note = time.monotonic() + 10
    try:
        while True:
            body: dict[str, Any] = {"size": max(1, batch), "query": hunt_query(since), "sort": HUNT_ORDER,
                                    "pit": {"id": pit, "keep_alive": KEEP_ALIVE}}
            if search_after is not None:
                body["search_after"] = search_after
            response = await client.search(**body)
            pit = response.get("pit_id", pit)
            hits = response["hits"]["hits"]
            if not hits:
                return
            now = utc_timestamp()
            alerts: list[dict[str, Any]] = []
            for hit in hits:
                found = page_alerts(watch_set, hit["_source"], hit["_id"], HUNT, now)
                report.matched_pages += bool(found)
                alerts += found
            report.pages += len(hits)
            outcome = await recorder.record(alerts)
            report.new += len(outcome.new)
            report.existing += outcome.existing
            report.refused += outcome.refused
            report.notifications_queued += outcome.queued
            report.new_alert_ids += [document["alert_id"] for document in outcome.new]
            search_after = hits[-1]["sort"]
            if time.monotonic() >= next_note:
                say(f"hunt: {report.pages} pages read, {report.new} new alerts")
                next_note = time.monotonic() + 10
    finally:
        await client.close_point_in_time(id=pit)
