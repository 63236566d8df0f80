"""Term watches: phrases found accent- and case-insensitively, as whole words, in any language.

Every term of every term watch goes into one :class:`pipelines.extract.keywords.Watchlist` (one Aho-Corasick
automaton, the watch lists' folding), so a page is read once whatever the number of watches: 1,000 term watches cost
about what one does (docs/performance.md, "Watches").

Offers :func:`term_spec` (the command line's terms -> the stored spec, or :class:`UsageError`) and
:class:`TermMatcher`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Any

from crawler.errors import UsageError
from crawler.watch.context import context_around, page_text
from crawler.watch.model import TERM, Watch
from pipelines.extract.keywords import Watchlist, WatchTerm, fold

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def term_spec(terms: Iterable[str], languages: Iterable[str] = ()) -> dict[str, Any]:
    """The spec of a term watch. Raises :class:`UsageError` for no term, or a term that folds to nothing."""
    kept = [" ".join(term.split()) for term in terms]
    if not kept:
        raise UsageError("a term watch needs at least one --term PHRASE")
    for term in kept:
        if not fold(term).strip():
            raise UsageError(f"term {term!r} is empty once accents, case and spaces are folded: give letters or digits")
    codes = sorted({code.strip().lower() for code in languages if code.strip()})
    return {"terms": kept, "languages": codes}


class TermMatcher:
    """The term watches, compiled into one automaton. :meth:`evaluate` returns watch id -> matches."""

    def __init__(self, watches: Iterable[Watch]) -> None:
        self.watches = {watch.id: watch for watch in watches if watch.kind == TERM}
        self.languages = {
            watch.id: frozenset(watch.spec.get("languages") or ()) for watch in self.watches.values()
        }
        # category = the watch id: the same phrase in two watches is kept once per watch. A watch of one language
        # has its terms' forms made in that language only; otherwise in all four (the watch lists' rules).
        self.watchlist = Watchlist(
            WatchTerm(term, watch.id, _forms_language(watch), watch.id)
            for watch in self.watches.values()
            for term in watch.spec.get("terms") or ()
        )

    def evaluate(self, page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """watch id -> one match per distinct term found (with the context of its first occurrence)."""
        if not self.watchlist.terms:
            return {}
        text = page_text(page)
        folded = fold(text, normalised=True)
        first: dict[int, tuple[int, int]] = {}
        for start, end, indexes in self.watchlist.spans(folded):
            for index in indexes:
                first.setdefault(index, (start, end))
        if not first:
            return {}
        language = str(page.get("language") or "")
        positions = _original_positions(text, folded)
        found: dict[str, list[dict[str, Any]]] = {}
        for index, (start, end) in sorted(first.items(), key=lambda pair: pair[1]):
            term = self.watchlist.terms[index]
            wanted = self.languages[term.category]
            if wanted and language not in wanted:
                continue
            if positions is not None:
                context = context_around(text, positions(start), positions(end))
            else:  # folding changed the text's length in a way the map cannot follow: quote the folded text
                context = context_around(folded, start, end)
            found.setdefault(term.category, []).append(
                {"kind": TERM, "value": term.term, "entity_kind": None, "context": context, "rule": None}
            )
        return found


def _forms_language(watch: Watch) -> str:
    languages = watch.spec.get("languages") or []
    return str(languages[0]) if len(languages) == 1 else "any"


def _original_positions(text: str, folded: str) -> Callable[[int], int] | None:
    """A map from an index of *folded* to the index of *text* it came from; ``None`` when the folding is not
    character by character (it is for the normalised text extraction writes). Most characters fold to one (``é`` to
    ``e``): only those that do not (``ß`` to ``ss``, a lone combining accent to nothing) are folded again, one by one,
    and the map is a bisection over them."""
    after: list[int] = []  # folded index just past each such character
    shift: list[int] = []  # original index minus folded index from there on
    delta = 0
    for found in _NON_ASCII.finditer(text):
        length = len(fold(found.group(0), normalised=True))
        if length != 1:
            delta += 1 - length
            after.append(found.start() + 1 - delta)
            shift.append(delta)
    if len(text) - delta != len(folded):
        return None

    def original(index: int) -> int:
        at = bisect_right(after, index)
        return index + (shift[at - 1] if at else 0)

    return original
