"""High-risk terms: the operator's list of words (child-abuse terms, typically) whose presence stops a site's crawl.

The file format is the watch lists' (docs/signals.md, "Watch lists"), and matching is theirs too (whole words, case
and accents ignored, one Aho-Corasick pass). The shipped default (``crawler/safety/high_risk_terms.yaml``) holds only
a sentinel term, so the policy is on and testable until an operator supplies a real list.

Offers :func:`default_terms_path`, :func:`load_high_risk_terms` (paths -> :class:`HighRiskTerms`, raising
:class:`crawler.errors.UsageError` that names the file and line) and :meth:`HighRiskTerms.verdict`
(page text -> :class:`Verdict` or None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines.extract.keywords import Watchlist, read_watchlist


def default_terms_path() -> Path:
    """The placeholder list shipped with darkcrawl."""
    return Path(__file__).parent / "high_risk_terms.yaml"


@dataclass(frozen=True)
class Verdict:
    """Why a page stops its site's crawl: the categories of the terms found and how many distinct terms matched.
    The terms themselves are not kept: the review record says which list fired, not what the page said."""

    categories: tuple[str, ...]
    terms_matched: int

    @property
    def reason(self) -> str:
        return "high_risk_terms:" + ",".join(self.categories)


class HighRiskTerms:
    """Compiled high-risk terms; :meth:`verdict` on the clean text of every page."""

    def __init__(self, watchlist: Watchlist, min_terms: int = 1):
        self.watchlist = watchlist
        self.min_terms = max(min_terms, 1)

    def __len__(self) -> int:
        return len(self.watchlist)

    def verdict(self, text: str, *, normalised: bool = False) -> Verdict | None:
        """Return a :class:`Verdict` when at least ``min_terms`` distinct terms occur in *text*, else None.
        *normalised*: *text* is a page's cleaned text (:func:`pipelines.extract.text.normalise_text`), so matching
        skips a whitespace pass over it (:func:`pipelines.extract.keywords.fold`)."""
        found = self.watchlist.find(text, normalised=normalised)
        if len(found) < self.min_terms:
            return None
        return Verdict(tuple(sorted({match["category"] for match in found})), len(found))


def load_high_risk_terms(paths: Iterable[str | Path] = (), min_terms: int = 1) -> HighRiskTerms:
    """Compile the term files at *paths* (none: the shipped placeholder). Raises :class:`UsageError` naming the file
    and line of a bad entry."""
    chosen = [Path(p) for p in paths] or [default_terms_path()]
    terms = []
    for path in chosen:
        terms.extend(read_watchlist(path))
    return HighRiskTerms(Watchlist(terms), min_terms)
