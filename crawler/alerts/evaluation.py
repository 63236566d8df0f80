"""One way to turn pages into alerts, for the crawl (pipelines/watching.py) and the retro-hunt (crawler/alerts/hunt.py),
so both make the same alerts with the same ids from the same page document.

Offers :func:`load_watch_inputs` (what clone and new-site watches need, read once from the index; its
``compile(watches)`` makes the :class:`WatchSet`), :func:`page_alerts` (the alert documents of one page) and
:func:`changed_since` (which watches an unchanged page still has to meet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.alerts.documents import alert_document

if TYPE_CHECKING:
    from crawler.es.schema import IndexNames
    from crawler.watch.clone import CloneReferences
    from crawler.watch.matchers import WatchSet
    from crawler.watch.model import Watch
    from crawler.watch.newsite import KnownSites


@dataclass
class WatchInputs:
    """What clone and new-site watches compare a page with, read from the index once per crawl or hunt."""

    references: CloneReferences | None = None
    known_sites: KnownSites | None = None

    def compile(self, watches: list[Watch]) -> WatchSet:
        from crawler.watch.matchers import WatchSet

        return WatchSet.compile(watches, self.references, self.known_sites)


async def load_watch_inputs(
    client: Any, names: IndexNames, watches: list[Watch], known_before: str | None = None, hunt: bool = False
) -> WatchInputs:
    """What *watches* compare pages with, read with the async *client*: the pages of the sites clone watches name
    (SimHashes, payment addresses), and, when a new-site watch is there, the sites known before: every site indexed
    so far for a crawl; for a hunt, those with a page first seen before *known_before* (none without it)."""
    from crawler.watch.model import CLONE, NEW_SITE

    inputs = WatchInputs()
    clone_sites = sorted({str(watch.spec["site"]) for watch in watches if watch.kind == CLONE})
    if clone_sites:
        from crawler.watch.clone import aload_clone_references

        inputs.references = await aload_clone_references(client, names, clone_sites)
    if any(watch.kind == NEW_SITE for watch in watches):
        from crawler.watch.newsite import KnownSites, aload_known_sites

        if hunt and not known_before:
            inputs.known_sites = KnownSites()
        else:
            inputs.known_sites = await aload_known_sites(client, names, before=known_before)
    return inputs


def page_alerts(
    watch_set: WatchSet, page: dict[str, Any], page_id: str, source: str, now: str
) -> list[dict[str, Any]]:
    """The alert documents of *page* (the page document as indexed) under *watch_set*: one per watch that fired."""
    return [
        alert_document(match, page, page_id, source, now, crawl_id=page.get("crawl_id") if source == "crawl" else None)
        for match in watch_set.evaluate(page)
    ]


def changed_since(watches: list[Watch], last_seen: str | None) -> list[Watch]:
    """The watches added after *last_seen* (the page's last fetch): an unchanged page was never checked against
    them, so it still is. All of them when the page has no date."""
    if not last_seen:
        return list(watches)
    return [watch for watch in watches if watch.created_at > last_seen]
