"""Reading what is exported: the alerts matching the filters, and the pages they point at. Documented in
docs/sharing.md.

* :class:`AlertFilters` -- ``--since``, ``--state``, ``--watch``, ``--watch-tag``, checked (a bad value is a
  :class:`UsageError`, not an Elasticsearch error) and turned into a query (:meth:`AlertFilters.query`).
* :func:`read_alerts` -- every matching alert, oldest first, paged with ``search_after`` (no result window limit).
* :func:`read_pages` -- page documents by id (their signals enrich the export); missing pages are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.errors import UsageError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from crawler.es.schema import IndexNames

STATES = ("new", "acknowledged", "dismissed")
DEFAULT_STATES = ("new", "acknowledged")
PAGE_SIZE = 500
DATE_MATH = re.compile(r"now(?:[-+]\d+[yMwdhHms])*(?:/[yMwdhHms])?")
PAGE_SOURCE = ["signals.crypto_addresses", "signals.pgp_keys", "signals.emails", "signals.handles",
               "signals.vendors"]


def parse_states(text: str) -> tuple[str, ...]:
    """``new,acknowledged`` as a tuple; raises :class:`UsageError` for a state alerts do not have."""
    states = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [state for state in states if state not in STATES]
    if not states or unknown:
        raise UsageError(f"--state {text!r}: give states among {', '.join(STATES)}, comma-separated")
    return states


def check_since(text: str) -> str:
    """An Elasticsearch date (``2026-11-01``, ``2026-11-01T12:00:00Z``) or date math (``now-7d``); raises
    :class:`UsageError` for anything else."""
    value = text.strip()
    if DATE_MATH.fullmatch(value):
        return value
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text!r}: give a date (2026-11-01, 2026-11-01T12:00:00Z) or now-7d") from None
    return value


@dataclass(frozen=True)
class AlertFilters:
    """Which alerts to export: seen (``last_seen``) since a date, in these states, of one watch, of watches with a
    tag (a case's watches, for instance)."""

    since: str | None = None
    states: tuple[str, ...] = DEFAULT_STATES
    watch: str | None = None
    watch_tag: str | None = None

    def query(self) -> dict[str, Any]:
        conditions: list[dict[str, Any]] = [{"terms": {"state": list(self.states)}}]
        if self.since:
            conditions.append({"range": {"last_seen": {"gte": self.since}}})
        if self.watch:
            conditions.append({"term": {"watch.id": self.watch}})
        if self.watch_tag:
            conditions.append({"term": {"watch.tags": self.watch_tag}})
        return {"bool": {"filter": conditions}}


def read_alerts(client: Elasticsearch, names: IndexNames, filters: AlertFilters,
                page_size: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """The alerts *filters* select, oldest first (then by id). Raises what the client raises."""
    alerts: list[dict[str, Any]] = []
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {
            "query": filters.query(),
            "sort": [{"first_seen": "asc"}, {"alert_id": "asc"}],
            "size": page_size,
            "track_total_hits": False,
        }
        if after is not None:
            body["search_after"] = after
        hits = client.search(index=names.alerts, **body)["hits"]["hits"]
        alerts += [hit["_source"] for hit in hits]
        if len(hits) < page_size:
            return alerts
        after = hits[-1]["sort"]


def read_pages(client: Elasticsearch, names: IndexNames, page_ids: Iterable[str],
               batch: int = PAGE_SIZE) -> dict[str, dict[str, Any]]:
    """The signals of the pages *page_ids* by id; pages not (or no longer) indexed are left out, and so is every
    page when there is no pages index."""
    from elasticsearch import NotFoundError

    ids = list(dict.fromkeys(page_id for page_id in page_ids if page_id))
    pages: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), batch):
        try:
            answer = client.mget(index=names.pages, ids=ids[start:start + batch], source_includes=PAGE_SOURCE)
        except NotFoundError:
            return pages
        pages.update({doc["_id"]: doc["_source"] for doc in answer["docs"] if doc.get("found")})
    return pages
