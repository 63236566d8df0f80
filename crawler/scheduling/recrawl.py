"""The adaptive recrawl policy and the per-site state it keeps in the ``sites`` index (docs/operations.md).

Each site the crawls have met has one document in ``<prefix>-sites`` (id = the site): when it was last visited and
last answered, its consecutive failures, how often its pages change, when it is due next and whether it is retired.
After every crawl each site it tried is *observed* once (:func:`observe`):

* it answered (at least one HTTP response): failures reset, ``change_rate`` moves halfway towards 1 if a page was new
  or changed in this crawl, towards 0 otherwise; the interval is divided by ``DARKCRAWL_RECRAWL_BACKOFF`` when
  something changed (down to ``DARKCRAWL_RECRAWL_MIN_INTERVAL``), multiplied by it when nothing did (up to
  ``DARKCRAWL_RECRAWL_INTERVAL``): live, changing sites are visited often, static ones once an interval;
* it failed (requests went out, no response came back): the interval is ``MIN_INTERVAL * BACKOFF^(failures-1)``,
  capped at ``DARKCRAWL_RECRAWL_MAX_INTERVAL`` (exponential back-off with a floor and a cap);
* a site failing for longer than ``DARKCRAWL_RECRAWL_RETIRE_AFTER`` since it last answered (or since it was first
  seen, if it never did) is *retired*: no longer visited, except one probe every ``DARKCRAWL_RECRAWL_RETIRED_PROBE``
  (0: never). Any crawl that gets an answer from it brings it back.

A recrawl schedule (``schedule add --sites-from-index``) visits the sites that are due (:func:`due_sites`), plus the
sites the pages index knows that have no state yet.

Offers: :class:`RecrawlPolicy`, :class:`SiteState`, :func:`observe`, :func:`is_due`, :func:`due_sites`,
:func:`load_states`, :func:`save_states`, :func:`changed_sites`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crawler.es.templates import SCHEMA_VERSION

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

DATE_FIELDS = ("first_seen", "last_visit", "last_success", "last_failure", "next_due", "retired_at")


@dataclass(frozen=True)
class RecrawlPolicy:
    interval: float
    min_interval: float
    max_interval: float
    backoff: float
    retire_after: float
    retired_probe: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RecrawlPolicy:
        return cls(
            interval=settings.getfloat("DARKCRAWL_RECRAWL_INTERVAL"),
            min_interval=settings.getfloat("DARKCRAWL_RECRAWL_MIN_INTERVAL"),
            max_interval=settings.getfloat("DARKCRAWL_RECRAWL_MAX_INTERVAL"),
            backoff=max(settings.getfloat("DARKCRAWL_RECRAWL_BACKOFF"), 1.0),
            retire_after=settings.getfloat("DARKCRAWL_RECRAWL_RETIRE_AFTER"),
            retired_probe=settings.getfloat("DARKCRAWL_RECRAWL_RETIRED_PROBE"),
        )


@dataclass
class SiteState:
    """One document of the sites index; times are unix seconds here, ISO dates in the index."""

    site: str
    url: str
    first_seen: float
    last_visit: float | None = None
    last_success: float | None = None
    last_failure: float | None = None
    consecutive_failures: int = 0
    visits: int = 0
    successes: int = 0
    change_rate: float = 0.0
    interval_seconds: float = 0.0
    next_due: float | None = None
    retired: bool = False
    retired_at: float | None = None
    last_crawl_id: str = ""

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = asdict(self)
        for name in DATE_FIELDS:
            document[name] = iso(document[name])
        document["schema_version"] = SCHEMA_VERSION
        return document

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> SiteState:
        names = {field.name for field in fields(cls)}
        values = {key: value for key, value in document.items() if key in names}
        for name in DATE_FIELDS:
            values[name] = from_iso(values.get(name))
        return cls(**values)


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000.0  # epoch_millis
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def observe(
    state: SiteState | None,
    site: str,
    answered: bool,
    changed: bool,
    now: float,
    policy: RecrawlPolicy,
    crawl_id: str = "",
) -> SiteState:
    """The state of *site* after one visit at *now* (pure: returns a new object)."""
    if state is None:
        state = SiteState(site=site, url=f"http://{site}/", first_seen=now, interval_seconds=policy.interval)
    else:
        state = SiteState(**asdict(state))
    state.visits += 1
    state.last_visit = now
    state.last_crawl_id = crawl_id
    previous = state.interval_seconds or policy.interval
    if answered:
        state.successes += 1
        state.consecutive_failures = 0
        state.last_success = now
        state.retired = False
        state.retired_at = None
        state.change_rate = round(0.5 * state.change_rate + (0.5 if changed else 0.0), 4)
        if changed:
            interval = previous / policy.backoff
        else:
            interval = previous * policy.backoff
        state.interval_seconds = min(max(interval, policy.min_interval), max(policy.interval, policy.min_interval))
        state.next_due = now + state.interval_seconds
        return state
    state.consecutive_failures += 1
    state.last_failure = now
    exponent = min(state.consecutive_failures - 1, 64)
    state.interval_seconds = min(policy.min_interval * policy.backoff**exponent, policy.max_interval)
    state.next_due = now + state.interval_seconds
    dead_since = state.last_success if state.last_success is not None else state.first_seen
    if policy.retire_after > 0 and now - dead_since >= policy.retire_after:
        if not state.retired:
            state.retired = True
            state.retired_at = now
        state.next_due = now + policy.retired_probe if policy.retired_probe > 0 else None
    return state


def is_due(state: SiteState, now: float) -> bool:
    return state.next_due is not None and state.next_due <= now


# --- the sites index ------------------------------------------------------------------------------------------------
def load_states(client: Any, alias: str, sites: list[str]) -> dict[str, SiteState]:
    """The stored state of each of *sites* that has one (sync client)."""
    if not sites:
        return {}
    response = client.mget(index=alias, ids=sites)
    return {doc["_id"]: SiteState.from_document(doc["_source"]) for doc in response["docs"] if doc.get("found")}


def save_states(client: Any, alias: str, states: list[SiteState]) -> None:
    if not states:
        return
    operations: list[Any] = []
    for state in states:
        operations.append({"index": {"_index": alias, "_id": state.site}})
        operations.append(state.to_document())
    response = client.bulk(operations=operations, refresh="wait_for")
    if response.get("errors"):
        failures = [item["index"].get("error") for item in response["items"] if item["index"].get("error")]
        raise RuntimeError(f"the sites index refused {len(failures)} documents: {failures[0]}")


def changed_sites_query(crawl_id: str, since: float) -> dict[str, Any]:
    """Pages of *crawl_id* whose content is new or changed since *since* (``content_changed_at``), by site."""
    return {
        "size": 0,
        "query": {
            "bool": {
                "filter": [
                    {"term": {"crawl_id": crawl_id}},
                    {"range": {"content_changed_at": {"gte": iso(since)}}},
                ]
            }
        },
        "aggs": {"sites": {"terms": {"field": "site", "size": 100_000}}},
    }


MAX_DUE = 10_000  # Elasticsearch's default result window; a larger recrawl is cut into several runs


def due_sites(client: Any, names: Any, now: float, limit: int = MAX_DUE) -> list[str]:
    """Sites to visit now: those whose ``next_due`` has come (retired ones only when a probe is due), then the sites
    of the pages index that have no state yet. Sync client; oldest due first."""
    response = client.search(
        index=names.alias("sites"),
        size=limit,
        query={"range": {"next_due": {"lte": iso(now)}}},
        sort=[{"next_due": "asc"}],
        source_includes=["site"],
    )
    due = [hit["_source"]["site"] for hit in response["hits"]["hits"]]
    known = client.search(
        index=names.alias("sites"), size=0, aggs={"sites": {"terms": {"field": "site", "size": 100_000}}}
    )
    known_sites = {bucket["key"] for bucket in known["aggregations"]["sites"]["buckets"]}
    pages = client.search(index=names.pages, size=0, aggs={"sites": {"terms": {"field": "site", "size": 100_000}}})
    new = [bucket["key"] for bucket in pages["aggregations"]["sites"]["buckets"] if bucket["key"] not in known_sites]
    return (due + sorted(new))[:limit]


def next_interval_text(state: SiteState) -> str:
    if state.retired:
        return "retired"
    return f"every {math.ceil(state.interval_seconds)}s"
