"""Evaluating every active watch on one page document: :class:`WatchSet`, compiled once per crawl or hunt.

``WatchSet.compile(watches, references, known_sites)`` builds each kind's matcher once (one Aho-Corasick automaton
for all term watches, one dict for all entity watches, re2 programs, one YARA rule set, the clone references);
``evaluate(page)`` reads the page document as indexed (:func:`crawler.sink.documents.page_document`), so the crawl and
the retro-hunt fire the same watches on the same content. No I/O in :meth:`WatchSet.evaluate`: what needs
Elasticsearch (clone references, known sites) is loaded before, by :mod:`crawler.watch.clone` and
:mod:`crawler.watch.newsite`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

from crawler.watch.clone import CloneMatcher, CloneReferences
from crawler.watch.entity import EntityMatcher
from crawler.watch.model import CLONE, NEW_SITE, REGEX, YARA, Watch, WatchMatch
from crawler.watch.newsite import KnownSites, NewSiteMatcher
from crawler.watch.regex import RegexMatcher
from crawler.watch.term import TermMatcher
from crawler.watch.yara import YaraMatcher

logger = logging.getLogger(__name__)


class Matcher(Protocol):
    def evaluate(self, page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]: ...


class WatchSet:
    """The active watches, compiled. Build with :meth:`compile`; call :meth:`evaluate` on every page."""

    def __init__(self, watches: list[Watch], matchers: list[Matcher]) -> None:
        self.watches = {watch.id: watch for watch in watches}
        self.matchers = matchers

    @classmethod
    def compile(
        cls,
        watches: Iterable[Watch],
        references: CloneReferences | None = None,
        known_sites: KnownSites | None = None,
    ) -> WatchSet:
        """Compile the active ones of *watches*. New-site watches need *known_sites* (without it they are left out,
        with a warning); clone watches without *references* compare only with the watched sites' pages met from now
        on (a warning too). Raises :class:`crawler.errors.UsageError` for a watch that no longer compiles (a YARA rule
        copy gone or changed, a pattern re2 refuses)."""
        active = [watch for watch in watches if watch.active]
        kinds = {watch.kind for watch in active}
        if NEW_SITE in kinds and known_sites is None:
            logger.warning("new-site watches left out: no known sites were loaded (load_known_sites)")
            active = [watch for watch in active if watch.kind != NEW_SITE]
        if CLONE in kinds and references is None:
            logger.warning("clone watches compare only with pages of the watched sites met from now on: no clone "
                           "references were loaded (load_clone_references)")
        matchers: list[Matcher] = [TermMatcher(active), EntityMatcher(active)]
        if REGEX in kinds:
            matchers.append(RegexMatcher(active))
        if YARA in kinds:
            matchers.append(YaraMatcher(active))
        if CLONE in kinds:
            sites = {str(watch.spec["site"]) for watch in active if watch.kind == CLONE}
            if references is None:
                references = CloneReferences(sites)
            for site in sites:  # a watch added since the references were loaded: its pages are met as they come
                references.sites.setdefault(site, {})
            matchers.append(CloneMatcher(active, references))
        if NEW_SITE in kinds and known_sites is not None:
            matchers.append(NewSiteMatcher(active, known_sites))
        return cls(active, matchers)

    def __len__(self) -> int:
        return len(self.watches)

    def evaluate(self, page: dict[str, Any]) -> list[WatchMatch]:
        """The watches that fire on *page* (a page document), in the order they were added. Never raises on page
        content."""
        found: dict[str, list[dict[str, Any]]] = {}
        clones: dict[str, dict[str, Any]] = {}
        for matcher in self.matchers:
            try:
                for watch_id, matches in matcher.evaluate(page).items():
                    found.setdefault(watch_id, []).extend(matches)
            except Exception:  # page content is hostile input: one kind's failure must not lose the others'
                logger.warning("%s failed on %s", type(matcher).__name__, page.get("url"), exc_info=True)
                continue
            clones.update(getattr(matcher, "last_clones", {}))
        return [
            WatchMatch(watch, found[watch_id], clones.get(watch_id))
            for watch_id, watch in self.watches.items()
            if watch_id in found
        ]
