"""Clone watches: pages on another site whose SimHash is within N bits of a page of the watched site (phishing
clones and scam mirrors copy a market's templates and text and swap in their own payment addresses).

The SimHash compared (:func:`clone_fingerprint`) is that of the page's text with what a clone swaps taken out: its
crypto addresses, onions, e-mails, handles and own host. The copied text is what makes two pages close; the swapped
values are what the alert names.

The watched sites' pages (SimHash, crypto addresses) are loaded from the pages index once per crawl or hunt
(:func:`load_clone_references`, or :func:`aload_clone_references` from async code) into :class:`CloneReferences`,
which the crawl keeps current as it indexes the watched sites' own pages (:meth:`CloneReferences.add`). A match names
the closest page of the watched site, the distance, and the payment addresses that differ: on this page and not on
that one (the clone's), and the other way round (the ones it replaced).

Pages with less than :data:`MIN_TEXT` characters of text take no part: their SimHash is too coarse (an error page or
a login form looks like every other one).

Offers :func:`clone_spec`, :func:`clone_fingerprint`, :class:`ReferencePage`, :class:`CloneReferences`,
:func:`load_clone_references`, :func:`aload_clone_references`, :func:`references_query`, :func:`closest`,
:class:`CloneMatcher`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.errors import UsageError
from crawler.identity import normalise_onion
from crawler.sink.entities import CRYPTO, page_entities
from crawler.watch.context import address_context
from crawler.watch.model import CLONE, Watch
from pipelines.extract.simhash import simhash

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch, Elasticsearch

    from crawler.es.schema import IndexNames

# bits: on the lab, the clone's pages sit 1-16 from the market's (30 of 37 within 8), two different pages of the market
# 14 or more apart, the other sites' pages 20 or more (docs/watch.md, "clone")
DEFAULT_MAX_DISTANCE = 8
MAX_DISTANCE = 16  # beyond this, pages merely share a template
MIN_TEXT = 200  # characters of text a page needs to be compared
MIN_SWAPPED = 4  # characters a swapped value needs to be taken out of the text (a short handle is a common word)
REFERENCE_FIELDS = ["url", "site", "text", "signals.crypto_addresses.address", "signals.onions", "signals.emails",
                    "signals.handles.handle"]


def clone_spec(site: str, max_distance: int = DEFAULT_MAX_DISTANCE) -> dict[str, Any]:
    """The spec of a clone watch: the watched onion (a host or a URL) and the largest distance in bits."""
    host = normalise_onion(site.strip().lower().removeprefix("http://").removeprefix("https://").split("/", 1)[0])
    if not host:
        raise UsageError(f"{site!r} is not a v3 onion: give the watched site's onion host (56 letters and digits "
                         ".onion) or a URL on it")
    if not 0 <= max_distance <= MAX_DISTANCE:
        raise UsageError(f"--max-distance {max_distance}: give 0 to {MAX_DISTANCE} bits (default "
                         f"{DEFAULT_MAX_DISTANCE})")
    return {"site": host, "max_distance": max_distance}


def clone_fingerprint(page: dict[str, Any]) -> int | None:
    """The SimHash of *page*'s text with what a clone swaps taken out (its payment addresses, onions, e-mails and
    handles, the site's own host), so that two copies of a page differing only in those are as close as the copied
    text makes them; ``None`` for a page with less than :data:`MIN_TEXT` characters of text (or none)."""
    text = str(page.get("text") or "")
    if len(text) < MIN_TEXT:
        return None
    signals = page.get("signals") or {}
    swapped = {str(address.get("address") or "") for address in signals.get("crypto_addresses") or []}
    swapped.update(str(value) for value in [*(signals.get("onions") or []), *(signals.get("emails") or [])])
    swapped.update(str(handle.get("handle") or "") for handle in signals.get("handles") or [])
    swapped.add(str(page.get("site") or ""))
    folded = text.casefold()
    present = [value for value in {value.casefold() for value in swapped if len(value) >= MIN_SWAPPED}
               if value in folded]
    if not present and signals.get("simhash"):  # nothing to take out: extraction's SimHash of the same text
        return int(str(signals["simhash"]), 16) or None
    for value in sorted(present, key=len, reverse=True):
        folded = folded.replace(value, " ")
    return int(simhash(folded), 16) or None


def _addresses(page: dict[str, Any]) -> frozenset[str]:
    return frozenset(entity.value for entity in page_entities(page) if entity.kind == CRYPTO)


@dataclass(frozen=True)
class ReferencePage:
    """One page of a watched site, as a clone is compared with it."""

    url: str
    simhash: int
    addresses: frozenset[str]


class CloneReferences:
    """The pages of the watched sites, by site. Build with :func:`load_clone_references` (or empty, then
    :meth:`add`)."""

    def __init__(self, sites: Iterable[str] = ()) -> None:
        self.sites: dict[str, dict[str, ReferencePage]] = {site: {} for site in sites}

    def add(self, page: dict[str, Any], fingerprint: int | None = None) -> bool:
        """Keep *page* (a page document or a search hit's source) if it is on a watched site and long enough;
        return whether it was kept. The crawl calls it on every page, so a watched site's new pages count.
        *fingerprint*: the page's :func:`clone_fingerprint`, when the caller has it already."""
        pages = self.sites.get(str(page.get("site") or ""))
        if pages is None or not page.get("url"):
            return False
        value = fingerprint if fingerprint is not None else clone_fingerprint(page)
        if value is None:
            return False
        pages[str(page["url"])] = ReferencePage(str(page["url"]), value, _addresses(page))
        return True

    def pages(self, site: str) -> Iterable[ReferencePage]:
        return self.sites.get(site, {}).values()

    def __len__(self) -> int:
        return sum(len(pages) for pages in self.sites.values())


def references_query(sites: Iterable[str]) -> dict[str, Any]:
    """The search (body) of the watched sites' pages, with only the fields a comparison reads."""
    return {"query": {"terms": {"site": sorted(set(sites))}}, "_source": REFERENCE_FIELDS}


def load_clone_references(client: Elasticsearch, names: IndexNames, sites: Iterable[str]) -> CloneReferences:
    """Every indexed page of *sites* (a blocking client; one scroll). Raises what the client raises."""
    from elasticsearch.helpers import scan

    references = CloneReferences(sites)
    if references.sites:
        for hit in scan(client, index=names.pages, query=references_query(references.sites), size=1000):
            references.add(hit["_source"])
    return references


async def aload_clone_references(
    client: AsyncElasticsearch, names: IndexNames, sites: Iterable[str]
) -> CloneReferences:
    """:func:`load_clone_references` for async code (the crawl's pipeline stage)."""
    from elasticsearch.helpers import async_scan

    references = CloneReferences(sites)
    if references.sites:
        query = references_query(references.sites)
        async for hit in async_scan(client, index=names.pages, query=query, size=1000):
            references.add(hit["_source"])
    return references


def closest(pages: Iterable[ReferencePage], fingerprint: int, max_distance: int) -> tuple[int, ReferencePage] | None:
    """The page of *pages* nearest to *fingerprint* (a :func:`clone_fingerprint`) within *max_distance* bits, with
    its distance (ties: the smallest URL), or ``None``."""
    best: tuple[int, str, ReferencePage] | None = None
    for reference in pages:
        distance = (fingerprint ^ reference.simhash).bit_count()
        if distance <= max_distance and (best is None or (distance, reference.url) < best[:2]):
            best = (distance, reference.url, reference)
    return None if best is None else (best[0], best[2])


class CloneMatcher:
    """The clone watches. :meth:`evaluate` returns watch id -> matches and leaves the clone details of the page in
    :attr:`last_clones` (watch id -> the alert's ``clone`` object)."""

    def __init__(self, watches: Iterable[Watch], references: CloneReferences) -> None:
        self.watches = [watch for watch in watches if watch.kind == CLONE]
        self.references = references
        self.last_clones: dict[str, dict[str, Any]] = {}

    def evaluate(self, page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        self.last_clones = {}
        if not self.watches:
            return {}
        value = clone_fingerprint(page)
        if value is None:
            return {}
        self.references.add(page, value)
        site = str(page.get("site") or "")
        found: dict[str, list[dict[str, Any]]] = {}
        addresses: frozenset[str] | None = None
        for watch in self.watches:
            watched_site = str(watch.spec["site"])
            if site == watched_site:
                continue
            best = closest(self.references.pages(watched_site), value, int(watch.spec["max_distance"]))
            if best is None:
                continue
            distance, reference = best
            if addresses is None:
                addresses = _addresses(page)
            this, watched = sorted(addresses - reference.addresses), sorted(reference.addresses - addresses)
            self.last_clones[watch.id] = {"of_site": watched_site, "of_url": reference.url, "distance": distance,
                                          "addresses": {"this": this, "watched": watched}}
            found[watch.id] = [{"kind": CLONE, "value": reference.url, "entity_kind": None,
                                "context": _clone_context(distance, this, watched), "rule": None}]
            found[watch.id] += [{"kind": CLONE, "value": address, "entity_kind": CRYPTO,
                                 "context": address_context(page, address), "rule": None} for address in this]
        return found


def _clone_context(distance: int, this: list[str], watched: list[str]) -> str:
    text = f"SimHash {distance} bit(s) from the watched page"
    if this or watched:
        text += f"; payment addresses differ: {len(this)} here only, {len(watched)} there only"
    return text
