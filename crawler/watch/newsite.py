"""New-site watches: a site not seen before shows a watch-list category (a new shop for stolen cards, a new
laundering service). Fires once per watch and site, on the first page of the site that carries the category.

"Seen before" is :class:`KnownSites`, loaded once from the pages index (:func:`load_known_sites`,
:func:`aload_known_sites`): for a crawl, every site indexed before it started; for a retro-hunt ``--since T``, every
site with a page first seen before T (without ``--since``: none, every site was new once). A site new to the crawl
stays new until the crawl ends, so its category may show on any of its pages; the watch fires once for it. A
retro-hunt fires on the same page as the crawl when it reads pages in ``first_seen`` order.

A category matches itself and its sub-categories: ``fraud`` matches ``fraud/carding`` and ``fraud/phishing``.

Offers :func:`new_site_spec`, :class:`KnownSites`, :func:`known_sites_query`, :func:`load_known_sites`,
:func:`aload_known_sites`, :class:`NewSiteMatcher`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from crawler.errors import UsageError
from crawler.watch.context import context_around, page_text
from crawler.watch.model import NEW_SITE, Watch
from pipelines.extract.keywords import fold

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch, Elasticsearch

    from crawler.es.schema import IndexNames

PAGE_SIZE = 5000  # sites per aggregation page


def new_site_spec(category: str, known_categories: Iterable[str] = ()) -> dict[str, Any]:
    """The spec of a new-site watch. With *known_categories* (the configured watch lists'), an unknown category
    (and not a parent of one) is refused with the list."""
    category = category.strip()
    if not category:
        raise UsageError("a new-site watch needs --category CATEGORY (a watch-list category, e.g. fraud/carding)")
    known = sorted(set(known_categories))
    if known and not any(_within(name, category) for name in known):
        raise UsageError(f"no watch-list category {category!r}; the configured lists have: {', '.join(known)}")
    return {"category": category}


def _within(name: str, category: str) -> bool:
    return name == category or name.startswith(category + "/")


class KnownSites:
    """The sites seen before the crawl (or before the hunt's ``--since``)."""

    def __init__(self, sites: Iterable[str] = ()) -> None:
        self.sites = set(sites)

    def seen_before(self, site: str) -> bool:
        return site in self.sites

    def add(self, site: str) -> None:
        """Count *site* as seen before from now on (a later crawl's view; the running crawl keeps it new)."""
        self.sites.add(site)

    def __len__(self) -> int:
        return len(self.sites)


def known_sites_query(before: str | None = None, after: dict[str, Any] | None = None) -> dict[str, Any]:
    """One page of the aggregation of the indexed sites (with a page first seen before *before*, when given)."""
    composite: dict[str, Any] = {"size": PAGE_SIZE, "sources": [{"site": {"terms": {"field": "site"}}}]}
    if after:
        composite["after"] = after
    query = {"range": {"first_seen": {"lt": before}}} if before else {"match_all": {}}
    return {"size": 0, "query": query, "aggs": {"sites": {"composite": composite}}}


def _page_of_sites(response: Any, known: KnownSites) -> dict[str, Any] | None:
    """Add one response's sites; return the key to continue after, or ``None`` at the end."""
    aggregation = response["aggregations"]["sites"]
    buckets = aggregation["buckets"]
    for bucket in buckets:
        known.add(str(bucket["key"]["site"]))
    return aggregation.get("after_key") if len(buckets) == PAGE_SIZE else None


def load_known_sites(client: Elasticsearch, names: IndexNames, before: str | None = None) -> KnownSites:
    """The sites in the pages index (with a page first seen before *before*, an ISO date, when given)."""
    known = KnownSites()
    after: dict[str, Any] | None = None
    while True:
        after = _page_of_sites(client.search(index=names.pages, **known_sites_query(before, after)), known)
        if after is None:
            return known


async def aload_known_sites(client: AsyncElasticsearch, names: IndexNames, before: str | None = None) -> KnownSites:
    """:func:`load_known_sites` for async code (the crawl's pipeline stage)."""
    known = KnownSites()
    after: dict[str, Any] | None = None
    while True:
        after = _page_of_sites(await client.search(index=names.pages, **known_sites_query(before, after)), known)
        if after is None:
            return known


class NewSiteMatcher:
    """The new-site watches. :meth:`evaluate` returns watch id -> the category's terms on the page."""

    def __init__(self, watches: Iterable[Watch], known: KnownSites) -> None:
        self.watches = [watch for watch in watches if watch.kind == NEW_SITE]
        self.known = known
        self.reported: dict[str, set[str]] = {watch.id: set() for watch in self.watches}

    def evaluate(self, page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        site = str(page.get("site") or "")
        if not self.watches or not site or self.known.seen_before(site):
            return {}
        keywords = (page.get("signals") or {}).get("keywords") or []
        found: dict[str, list[dict[str, Any]]] = {}
        text: str | None = None
        for watch in self.watches:
            category = str(watch.spec["category"])
            terms = [str(keyword["term"]) for keyword in keywords if _within(str(keyword.get("category")), category)]
            if not terms or site in self.reported[watch.id]:
                continue
            self.reported[watch.id].add(site)
            text = page_text(page) if text is None else text
            found[watch.id] = [{"kind": NEW_SITE, "value": term, "entity_kind": None,
                                "context": _term_context(text, term), "rule": None} for term in terms]
        return found


def _term_context(text: str, term: str) -> str:
    """Where *term* first shows, found in the folded text (its position is the original's for most pages)."""
    folded = fold(text, normalised=True)
    at = folded.find(fold(term))
    if at < 0:
        return ""
    source = text if len(folded) == len(text) else folded
    return context_around(source, at, at + len(fold(term)))
