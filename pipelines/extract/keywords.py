"""Watch-list terms in a page: operator-edited YAML lists, matched in one pass. Contract in docs/signals.md
(``keywords``); file format in docs/signals.md ("Watch lists").

Offers :func:`load_watchlists` (YAML paths -> :class:`Watchlist`, raising :class:`crawler.errors.UsageError` that
names the file and line), :func:`default_watchlist_path`, :func:`fold` (the normalisation both sides get) and
:meth:`Watchlist.find` (text -> ``[{"term", "category", "count"}]``).

Terms and text are both casefolded, stripped of accents and have their whitespace collapsed, so "Kokain",
"kokaïne" and "KOKAIN" meet. Each term is also looked for in its inflected forms, by the rules of its own language
(:func:`inflections`: plural, feminine, declined adjectives), so "faux passeports" finds "faux passeport" and "valse
paspoorten" "vals paspoort", while the English "mailer" never finds "mail": the forms are made on the terms' side, the
page's text is only folded. One Aho-Corasick automaton (pyahocorasick) finds every form of every term in one pass,
and a match counts only when it is a whole word on both sides ("meth" is not found in "method"). A term marked
``ambiguous`` ("speed", "crystal") counts only with context: a term of the same category that is not ambiguous within
:data:`CONTEXT_WINDOW` characters.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from crawler.errors import UsageError
from pipelines.extract.caps import Capped
from pipelines.extract.yamlfile import compose_yaml_file

ENTRY_KEYS = frozenset({"term", "terms", "category", "language", "ambiguous"})
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SPACES = re.compile(r"\s{2,}|[^\S ]")  # runs of whitespace, or one that is not a plain space


def _latin1_accents_table() -> tuple[bytes, tuple[str, ...]]:
    """A bytes.translate table taking each Latin-1 character to what NFKD and the removal of combining marks make of
    it, and the characters that do not become one Latin-1 character (the fractions, "µ"), left to the slow path. A
    Latin-1 text has no combining marks of its own, so it decomposes character by character."""
    table = bytearray(range(256))
    expanding: list[str] = []
    for value in range(256):
        stripped = _COMBINING.sub("", unicodedata.normalize("NFKD", chr(value)))
        if len(stripped) == 1 and ord(stripped) < 256:
            table[value] = ord(stripped)
        else:
            expanding.append(chr(value))
    return bytes(table), tuple(expanding)


_LATIN1_ACCENTS, _LATIN1_EXPANDING = _latin1_accents_table()


def _strip_accents(folded: str) -> str:
    """*folded* in NFKD without combining marks: by one bytes.translate when it is Latin-1 (most European pages),
    else by unicodedata and a regular expression (three times slower)."""
    if not any(char in folded for char in _LATIN1_EXPANDING):
        try:
            return folded.encode("latin-1").translate(_LATIN1_ACCENTS).decode("latin-1")
        except UnicodeEncodeError:
            pass
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


CONTEXT_WINDOW = 200  # characters (folded text) within which an ambiguous term needs a term of its category
LANGUAGES = ("en", "fr", "nl", "de")  # the languages whose inflections are made (``any``: all of them)
MIN_WORD = 3  # letters a word needs before its forms are made: "de", "la" stay as written, "gun" takes "guns"
MIN_BASE = 4  # letters left once an ending is stripped to find a base: "faux" does not become "fau"
MAX_FORMS = 256  # forms made for one multi-word term at most (the first ones: the written form comes first)
VOWELS = frozenset("aeiouy")
_DUTCH_LONG_VOWEL = re.compile(r"(.*)([aeou])\2([^aeiouy])")  # pistool -> pistolen, boot -> boten: one vowel written


def default_watchlist_path() -> Path:
    """The starter list shipped with darkcrawl (``pipelines/extract/watchlists/default.yaml``)."""
    return Path(__file__).parent / "watchlists" / "default.yaml"


def fold(text: str, *, normalised: bool = False) -> str:
    """Casefold *text*, strip accents and collapse whitespace to single spaces (what matching compares).
    *normalised* says the text has no whitespace but single spaces and newlines (the cleaned text of
    :func:`pipelines.extract.text.normalise_text`), which skips a pass."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _strip_accents(folded)
    folded = folded.replace("\n", " ")
    return folded if normalised else _SPACES.sub(" ", folded)


def _bases(word: str, endings: tuple[str, ...]) -> list[str]:
    """*word*, and *word* without the first of *endings* it has, when at least :data:`MIN_BASE` letters stay."""
    for end in endings:
        if word.endswith(end) and len(word) - len(end) >= MIN_BASE:
            return [word, word[: -len(end)]]
    return [word]


def _forms_in(word: str, language: str) -> list[str]:
    """The forms of one folded word in *language*: English plurals; French plural and feminine (-s, -e, -es, -aux,
    -x after au/eu/ou); Dutch plural and declined adjective (-e, -en, -s, a short vowel's consonant doubled: pil ->
    pillen, a long one written once: pistool -> pistolen); German declension (-e, -en, -em, -er, -es, -n, -s, and
    -a -> -en: Firma -> Firmen). Bases are found by stripping one such ending."""
    if language == "en":
        plural = [word[:-1] + "ies"] if word.endswith("y") and word[-2:-1] not in VOWELS else []
        return [word, word + "s", word + "es", *plural]
    forms: list[str] = []
    if language == "fr":
        for base in _bases(word, ("es", "s", "x", "e")):
            forms += [base, base + "s", base + "e", base + "es"]
            if base.endswith(("au", "eu", "ou")):
                forms.append(base + "x")
            if base.endswith("al"):
                forms.append(base[:-2] + "aux")
    elif language == "nl":
        for base in _bases(word, ("en", "e", "s")):
            forms += [base, base + "e", base + "en", base + "s"]
            if base[-1] not in VOWELS and base[-2:-1] in VOWELS and base[-3:-2] not in VOWELS:
                forms += [base + base[-1] + "e", base + base[-1] + "en"]
            long_vowel = _DUTCH_LONG_VOWEL.fullmatch(base)
            if long_vowel:
                forms += [long_vowel.expand(r"\1\2\3e"), long_vowel.expand(r"\1\2\3en")]
    elif language == "de":
        for base in _bases(word, ("en", "em", "er", "es", "e", "n", "s")):
            forms += [base + end for end in ("", "e", "en", "em", "er", "es", "n", "s")]
            if base.endswith("a"):
                forms.append(base[:-1] + "en")
    return forms


def _word_forms(word: str, languages: Iterable[str]) -> list[str]:
    """The forms of one folded word in *languages*, the written one first, each once."""
    if len(word) < MIN_WORD or not word[-1].isalpha():
        return [word]
    forms = {word: None}
    for language in languages:
        forms.update(dict.fromkeys(_forms_in(word, language)))
    return list(forms)


def inflections(folded: str, language: str) -> list[str]:
    """The forms of a folded term (:func:`fold`) in *language* (``any``: all four), the term itself first: each word
    in its forms, multi-word terms in their combinations (at most :data:`MAX_FORMS`)."""
    languages = [language] if language in LANGUAGES else list(LANGUAGES)
    combinations = [""]
    for position, word in enumerate(folded.split(" ")):
        head, _, tail = word.rpartition("'")  # d'identite: the forms are the word's after the elision
        forms = [head + _ + form for form in _word_forms(tail, languages)]
        combinations = [f"{done} {form}" if position else form for done in combinations for form in forms]
        del combinations[MAX_FORMS:]
    return combinations


@dataclass(frozen=True)
class WatchTerm:
    """One watched term as the operator wrote it, with its category and language (``"any"`` when not given), and
    whether it is ambiguous (counted only next to a term of its category that is not)."""

    term: str
    category: str
    language: str
    source: str  # "file:line", for messages
    ambiguous: bool = False


class Watchlist:
    """Compiled watch lists: build once (:func:`load_watchlists`), then :meth:`find` on every page."""

    def __init__(self, terms: Iterable[WatchTerm], *, inflect: bool = True) -> None:
        """Compile *terms*; *inflect* False looks for the written forms only (the benchmark's baseline)."""
        self.terms: list[WatchTerm] = []
        by_key: dict[str, list[int]] = {}
        written: set[tuple[str, str]] = set()
        for term in terms:
            folded = fold(term.term).strip()
            if not folded or (folded, term.category) in written:
                continue  # same term, same category, in two lists: counted once
            written.add((folded, term.category))
            index = len(self.terms)
            self.terms.append(term)
            for key in inflections(folded, term.language) if inflect else [folded]:
                indexes = by_key.setdefault(key, [])
                if not any(self.terms[i].category == term.category for i in indexes):  # one form, one term a category
                    indexes.append(index)
        self._automaton: Any = ahocorasick.Automaton() if by_key else None
        if self._automaton is not None:
            for key, indexes in by_key.items():
                self._automaton.add_word(key, (len(key), tuple(indexes)))
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.terms)

    def find(self, text: str, *, normalised: bool = False, limit: int | None = None) -> Capped[dict[str, Any]]:
        """Return ``[{"term", "category", "count"}]`` for each watched term found in *text* as a whole word,
        most frequent first (then by term), at most *limit* (the others counted in ``beyond``); an ambiguous term only
        where it has context. *normalised*: see :func:`fold`. Never raises; time linear in the text (one pass of the
        automaton, then a sort of the hits)."""
        if self._automaton is None or not text:
            return Capped()
        hits = [(end, index) for _start, end, indexes in self.spans(fold(text, normalised=normalised))
                for index in indexes]  # (end position, term index), in text order
        counts: dict[int, int] = {}
        for index in self._in_context(hits):
            counts[index] = counts.get(index, 0) + 1
        ranked = sorted(counts.items(), key=lambda pair: (-pair[1], self.terms[pair[0]].term))
        terms = self.terms
        return Capped.of(({"term": terms[i].term, "category": terms[i].category, "count": n} for i, n in ranked), limit)

    def spans(self, folded: str) -> Iterator[tuple[int, int, tuple[int, ...]]]:
        """``(start, end, term indexes)`` of each whole-word match of a form of a term in *folded* (text already
        through :func:`fold`), *end* exclusive; the indexes point into :attr:`terms`; ambiguous terms are not
        checked for context here. For callers that need where a term is, not only how often (the watches' match
        context)."""
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

    def _in_context(self, hits: list[tuple[int, int]]) -> list[int]:
        """The term indexes of *hits* that count: every plain term, and ambiguous ones with a plain term of the same
        category within :data:`CONTEXT_WINDOW` characters (either side)."""
        anchors: dict[str, list[int]] = {}
        for end, index in hits:
            term = self.terms[index]
            if not term.ambiguous:
                anchors.setdefault(term.category, []).append(end)
        counted = []
        for end, index in hits:
            term = self.terms[index]
            if term.ambiguous:
                near = anchors.get(term.category, [])
                at = bisect_left(near, end - CONTEXT_WINDOW)
                if at == len(near) or near[at] > end + CONTEXT_WINDOW:
                    continue
            counted.append(index)
        return counted


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
        ambiguous = False
        if "ambiguous" in fields:
            flag = fields["ambiguous"]
            if not isinstance(flag, yaml.ScalarNode) or flag.value.lower() not in ("true", "false", "yes", "no"):
                raise UsageError(f"{path}:{flag.start_mark.line + 1}: 'ambiguous' must be true or false")
            ambiguous = flag.value.lower() in ("true", "yes")
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
            terms.append(WatchTerm(word, category, language, f"{path}:{word_line}", ambiguous))
    return terms


def load_watchlists(paths: Iterable[str | Path] = ()) -> Watchlist:
    """Compile the watch lists at *paths* (none given: the shipped default list) into one :class:`Watchlist`.
    Raises :class:`UsageError` naming the file and line of the first bad entry."""
    chosen = [Path(p) for p in paths] or [default_watchlist_path()]
    terms: list[WatchTerm] = []
    for path in chosen:
        terms.extend(read_watchlist(path))
    return Watchlist(terms)
