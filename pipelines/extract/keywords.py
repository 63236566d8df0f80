"""Watch-list terms in a page: operator-edited YAML lists, matched in one pass. Contract in docs/signals.md
(``keywords``); file format in docs/signals.md ("Watch lists").

Offers :func:`load_watchlists` (YAML paths -> :class:`Watchlist`, raising :class:`crawler.errors.UsageError` that
names the file and line), :func:`default_watchlist_path`, :func:`fold` (the normalisation both sides get) and
:meth:`Watchlist.find` (text -> ``[{"term", "category", "count"}]``).

Terms and text are both casefolded, stripped of accents and have their whitespace collapsed, so "Kokain",
"kokaïne" and "KOKAIN" meet; one Aho-Corasick automaton (pyahocorasick) finds every term in one pass, and a match
counts only when it is a whole word on both sides ("meth" is not found in "method").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from crawler.errors import UsageError
from pipelines.extract.yamlfile import compose_yaml_file

ENTRY_KEYS = frozenset({"term", "terms", "category", "language"})
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPACES = re.compile(r"\s{2,}|[^\S ]")  # runs of whitespace, or one that is not a plain space


def default_watchlist_path() -> Path:
    """The starter list shipped with darkcrawl (``pipelines/extract/watchlists/default.yaml``)."""
    return Path(__file__).parent / "watchlists" / "default.yaml"


def fold(text: str, *, normalised: bool = False) -> str:
    """Casefold *text*, strip accents and collapse whitespace to single spaces (what matching compares).
    *normalised* says the text has no whitespace but single spaces and newlines (the cleaned text of
    :func:`pipelines.extract.text.normalise_text`), which skips a pass."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    folded = folded.replace("\n", " ")
    return folded if normalised else _SPACES.sub(" ", folded)


@dataclass(frozen=True)
class WatchTerm:
    """One watched term as the operator wrote it, with its category and language (``"any"`` when not given)."""

    term: str
    category: str
    language: str
    source: str  # "file:line", for messages


class Watchlist:
    """Compiled watch lists: build once (:func:`load_watchlists`), then :meth:`find` on every page."""

    def __init__(self, terms: Iterable[WatchTerm]) -> None:
        self.terms: list[WatchTerm] = []
        by_key: dict[str, list[int]] = {}
        for term in terms:
            key = fold(term.term).strip()
            if not key:
                continue
            if any(self.terms[i].category == term.category for i in by_key.get(key, [])):
                continue  # same term, same category, in two lists: counted once
            by_key.setdefault(key, []).append(len(self.terms))
            self.terms.append(term)
        self._automaton: Any = ahocorasick.Automaton() if by_key else None
        if self._automaton is not None:
            for key, indexes in by_key.items():
                self._automaton.add_word(key, (len(key), tuple(indexes)))
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.terms)

    def find(self, text: str, *, normalised: bool = False) -> list[dict[str, Any]]:
        """Return ``[{"term", "category", "count"}]`` for each watched term found in *text* as a whole word,
        most frequent first (then by term). *normalised*: see :func:`fold`. Never raises."""
        if self._automaton is None or not text:
            return []
        counts: dict[int, int] = {}
        for _start, _end, indexes in self.spans(fold(text, normalised=normalised)):
            for index in indexes:
                counts[index] = counts.get(index, 0) + 1
        ranked = sorted(counts.items(), key=lambda pair: (-pair[1], self.terms[pair[0]].term))
        return [{"term": self.terms[i].term, "category": self.terms[i].category, "count": count} for i, count in ranked]


    def spans(self, folded: str) -> Iterator[tuple[int, int, tuple[int, ...]]]:
        """``(start, end, term indexes)`` of each whole-word match in *folded* (text already through :func:`fold`),
        *end* exclusive; the indexes point into :attr:`terms`. For callers that need where a term is, not only
        how often (the watches' match context)."""
        if self._automaton is None:
            return
        last = len(folded) - 1
        for end, (length, indexes) in self._automaton.iter(folded):
            start = end - length + 1
            if start > 0 and folded[start - 1].isalnum():
                continue
            if end < last and folded[end + 1].isalnum():
                continue
            yield start, end + 1, indexes


def _scalar(node: yaml.Node, path: Path, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise UsageError(f"{path}:{node.start_mark.line + 1}: {what} must be a non-empty string")
    return str(node.value).strip()


def _entries(path: Path, root: yaml.Node | None) -> list[yaml.Node]:
    if root is None:
        return []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "terms":
                root = value
                break
        else:
            raise UsageError(f"{path}:{root.start_mark.line + 1}: expected a 'terms:' list of entries")
    if not isinstance(root, yaml.SequenceNode):
        raise UsageError(f"{path}:{root.start_mark.line + 1}: expected a list of entries (term, category, language)")
    return list(root.value)


def read_watchlist(path: str | Path) -> list[WatchTerm]:
    """Read one watch-list file. Raises :class:`UsageError` naming the file and line of the first problem."""
    path = Path(path)
    _source, root = compose_yaml_file(path, "watch list")
    terms: list[WatchTerm] = []
    for entry in _entries(path, root):
        line = entry.start_mark.line + 1
        if not isinstance(entry, yaml.MappingNode):
            raise UsageError(f"{path}:{line}: each entry must be a mapping with term (or terms), category, language")
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in entry.value:
            key = str(key_node.value)
            if key not in ENTRY_KEYS:
                where = f"{path}:{key_node.start_mark.line + 1}"
                raise UsageError(f"{where}: unknown key {key!r} (use {', '.join(sorted(ENTRY_KEYS))})")
            fields[key] = value_node
        if "category" not in fields:
            raise UsageError(f"{path}:{line}: entry has no 'category'")
        category = _scalar(fields["category"], path, "category")
        language = _scalar(fields["language"], path, "language") if "language" in fields else "any"
        words: list[tuple[str, int]] = []
        if "term" in fields:
            words.append((_scalar(fields["term"], path, "term"), fields["term"].start_mark.line + 1))
        if "terms" in fields:
            node = fields["terms"]
            if not isinstance(node, yaml.SequenceNode):
                raise UsageError(f"{path}:{node.start_mark.line + 1}: 'terms' must be a list of strings")
            words.extend((_scalar(item, path, "each term"), item.start_mark.line + 1) for item in node.value)
        if not words:
            raise UsageError(f"{path}:{line}: entry has no 'term' or 'terms'")
        for word, word_line in words:
            if not fold(word).strip(" "):
                raise UsageError(f"{path}:{word_line}: term {word!r} is empty once normalised")
            terms.append(WatchTerm(word, category, language, f"{path}:{word_line}"))
    return terms


def load_watchlists(paths: Iterable[str | Path] = ()) -> Watchlist:
    """Compile the watch lists at *paths* (none given: the shipped default list) into one :class:`Watchlist`.
    Raises :class:`UsageError` naming the file and line of the first bad entry."""
    chosen = [Path(p) for p in paths] or [default_watchlist_path()]
    terms: list[WatchTerm] = []
    for path in chosen:
        terms.extend(read_watchlist(path))
    return Watchlist(terms)
