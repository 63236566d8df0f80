"""Language of a page's text, with langdetect. Contract in docs/signals.md (``language``).

Offers :func:`detect_language` (text -> ``{"code", "probability"}``) and :func:`language_sample`. langdetect is
randomised: the seed is fixed here so that the same page always gets the same answer.

langdetect's profiles are read lazily (:class:`Profiles`): the 55 files are parsed once per process (about 0.05 s),
and the per-language probabilities of an n-gram are computed the first time a page holds it, with langdetect's own
formula, rather than for all 87,000 n-grams up front (0.5 s, most of the start of ``darkcrawl extract``). The
probabilities, and so the answers, are the same (tests/unit/extract/test_language.py).

Only a bounded sample is read (``DARKCRAWL_LANGUAGE_SAMPLE`` characters), and it is taken from the page's prose:
lines of at least 60 characters and 7 words, in page order, before anything else. Markup-heavy pages open with
menus and category lists: judged on their first 1,000 characters, 38 of 150 benchmark pages got the right
language; judged on their prose, 144 of 150 (bench/bench_extract.py corpus). URLs, addresses, hashes and words
with digits are left out. Three random trials instead of langdetect's seven halve the cost (same accuracy on that
corpus).
"""

from __future__ import annotations

import json
import logging
import os
import re
from itertools import repeat
from typing import Any

from langdetect import DetectorFactory, detector_factory
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

log = logging.getLogger(__name__)

DetectorFactory.seed = 0
UNKNOWN: dict[str, Any] = {"code": "unknown", "probability": 0.0}
DEFAULT_SAMPLE = 1000  # characters of prose read by default
TRIALS = 3  # langdetect's random trials (its default is 7)
PROSE_LINE_CHARS = 60
PROSE_LINE_SPACES = 6
MIN_PROSE_SAMPLE = 200  # less prose than this: the start of the text is judged instead
_LONG_LINE = re.compile(rf"[^\n]{{{PROSE_LINE_CHARS},}}")
MIN_LETTERS = 20  # fewer letters than this in the sample: "unknown" rather than a guess
_NOT_LETTERS = re.compile(r"[\W\d_]+")
# URLs, onions, e-mails, and words with digits or of 25+ characters (addresses, hashes, base64): not language.
# Each alternative starts only where a token or word starts (the look-behinds), so a long run is read once, not
# once from each of its characters (a larger DARKCRAWL_LANGUAGE_SAMPLE stays linear).
_NOISE = re.compile(r"(?<!\S)\S*(?:://|\.onion|@)\S*|(?<!\w)(?:\w*\d\w*|\w{25,})")


class _Detector(Detector):
    """langdetect's detector with its per-character loops rewritten for speed; the text, the n-grams and therefore
    the probabilities are the same (tests/unit/extract/test_language.py compares them with langdetect's own).

    The original n-gram extraction calls two Python methods per character; here the text is normalised by one
    ``str.translate`` (each distinct character through ``NGram.normalize`` once) and each distinct word's n-grams are
    computed once (the window restarts at every space); the trial loop keeps langdetect's random draws and float
    operations; ``append`` and ``cleaning_text`` use regular expressions instead of character loops.

    *factory* is :class:`Profiles` (or langdetect's own ``DetectorFactory``, whose map holds every n-gram already).
    """

    def __init__(self, factory: Any) -> None:
        super().__init__(factory)
        self.known_grams = getattr(factory, "grams", factory.word_lang_prob_map)

    def _extract_ngrams(self) -> list[str]:
        # The state of langdetect's n-gram window starts afresh at every space, so a word's n-grams depend on the
        # word alone: the text is normalised by one translate, split at spaces, and each distinct word's n-grams
        # are computed once (cached across pages, whose vocabularies overlap) and appended in text order.
        known = self.known_grams
        if _WORD_NGRAMS_OF[0] is not known or len(_WORD_NGRAMS) >= _WORD_NGRAMS_MAX:
            _WORD_NGRAMS.clear()
            _WORD_NGRAMS_OF[0] = known
        text: str = self.text
        table = _NORMALISED
        for char in set(text).difference(map(chr, table)):
            table[ord(char)] = NGram.normalize(char)
        words = text.translate(table).split(" ")
        cache = _WORD_NGRAMS
        result: list[str] = []
        extend = result.extend
        last = len(words) - 1
        for index, word in enumerate(words):
            if not word:
                continue
            if index < last:  # a space follows: it ends the word's last n-grams
                word += " "
            grams = cache.get(word)
            if grams is None:
                grams = cache[word] = _word_ngrams(word, known)
            extend(grams)
        if isinstance(self.word_lang_prob_map, _GramProbabilities):
            self.word_lang_prob_map.compute(result)  # langdetect's update step looks them up by `in`
        return result

    def _detect_block(self) -> None:
        # langdetect's, with the same random draws and the same floating-point operations in the same order; the
        # probability vector is rebuilt by a comprehension instead of updated by an indexed loop.
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        self.langprob = [0.0] * len(self.langlist)
        self.random.seed(self.seed)
        choice = self.random.choice
        word_probabilities = self.word_lang_prob_map
        threshold, limit = self.CONV_THRESHOLD, self.ITERATION_LIMIT
        for _ in range(self.n_trial):
            prob = self._init_probability()
            alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            i = 0
            while True:
                factors = word_probabilities[choice(ngrams)]
                prob = [p * (weight + q) for p, q in zip(prob, factors, strict=True)]
                if i % 5 == 0:
                    total = sum(prob)
                    prob = [p / total for p in prob]
                    if max(prob, default=0.0) > threshold or i >= limit:
                        break
                i += 1
            for j in range(len(self.langprob)):
                self.langprob[j] += prob[j] / self.n_trial

    def append(self, text: str) -> None:
        # As langdetect's: URLs and e-mails blanked, Vietnamese normalised, runs of spaces collapsed, cut at
        # max_text_length characters (counted before collapsing); by regular expression instead of a loop.
        text = NGram.normalize_vi(self.MAIL_RE.sub(" ", self.URL_RE.sub(" ", text)))
        self.text: str = self.text + _SPACE_RUNS.sub(" ", text[: self.max_text_length])

    def cleaning_text(self) -> None:
        # As langdetect's: when non-Latin letters are more than twice the Latin ones, drop the Latin ones.
        text: str = self.text
        latin = len(_LATIN_RANGE.findall(text))
        if latin and latin * 2 < len(_NON_LATIN.findall(text)):
            self.text = _LATIN_RANGE.sub("", text)


_SPACE_RUNS = re.compile(r"  +")
_LATIN_RANGE = re.compile(r"[A-z]")  # langdetect's test is 'A' <= ch <= 'z', brackets and backquote included
_NON_LATIN = re.compile("[\u0300-\u1dff\u1f00-\U0010ffff]")  # from U+0300, less Latin Extended Additional
_NORMALISED: dict[int, str] = {}  # code point -> NGram.normalize(character), a str.translate table
_WORD_NGRAMS: dict[str, list[str]] = {}  # word (with its trailing space, if any) -> its n-grams
_WORD_NGRAMS_OF: list[Any] = [None]  # the n-gram map _WORD_NGRAMS was computed against
_WORD_NGRAMS_MAX = 100_000


def _word_ngrams(word: str, known: Any) -> list[str]:
    """The n-grams langdetect's window yields for *word* (no space in it, but maybe one at its end), starting from
    a space as after any space: the loop of langdetect's ``NGram.add_char`` and ``_extract_ngrams``."""
    result: list[str] = []
    grams = " "
    capital = False
    for char in word:
        last = grams[-1]
        if last == " ":
            grams = " "
            capital = False
        elif len(grams) >= NGram.N_GRAM:
            grams = grams[1:]
        grams += char
        if char.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if capital:
            continue
        size = len(grams)
        for n in (1, 2, 3):
            if size < n:
                break
            gram = grams[-n:]
            if gram != " " and gram in known:
                result.append(gram)
    return result


class _GramProbabilities(dict[str, list[float]]):
    """n-gram -> its probability in each language (langdetect's ``word_lang_prob_map``), filled on demand from the
    profiles' counts, with langdetect's formula (``1.0 * count / n_words[len(gram) - 1]``): the same floats."""

    def __init__(self, counts: list[dict[str, int]], n_words: list[list[int]]) -> None:
        super().__init__()
        self.counts = counts
        self.totals = [[words[size] for words in n_words] for size in range(NGram.N_GRAM)]  # per n: per language

    def __missing__(self, gram: str) -> list[float]:
        size = len(gram)
        if 1 <= size <= NGram.N_GRAM:
            found = map(dict.get, self.counts, repeat(gram))
            probabilities = [0.0 if count is None else 1.0 * count / total
                             for count, total in zip(found, self.totals[size - 1], strict=True)]
        else:
            probabilities = [0.0] * len(self.counts)
        self[gram] = probabilities
        return probabilities

    def compute(self, grams: list[str]) -> None:
        """Make sure each of *grams* (all in some profile) is in the map."""
        for gram in grams:
            if gram not in self:
                self.__missing__(gram)


class Profiles:
    """langdetect's language profiles, read as its ``DetectorFactory`` reads them (the files of its ``profiles``
    directory, in ``os.listdir`` order, which gives each language its index), for :class:`_Detector`: ``langlist``,
    ``grams`` (every n-gram of some profile) and ``word_lang_prob_map`` (a :class:`_GramProbabilities`)."""

    def __init__(self, directory: str = detector_factory.PROFILES_DIRECTORY) -> None:
        self.langlist: list[str] = []
        counts: list[dict[str, int]] = []
        n_words: list[list[int]] = []
        for filename in os.listdir(directory):
            path = os.path.join(directory, filename)
            if filename.startswith(".") or not os.path.isfile(path):
                continue
            with open(path, encoding="utf-8") as handle:
                profile = json.load(handle)
            if profile["name"] in self.langlist:
                raise LangDetectException(ErrorCode.DuplicateLangError, f"two profiles of {profile['name']}")
            self.langlist.append(profile["name"])
            counts.append(profile["freq"])
            n_words.append(profile["n_words"])
        self.grams: frozenset[str] = frozenset().union(*counts)
        self.word_lang_prob_map = _GramProbabilities(counts, n_words)

    @property
    def seed(self) -> int | None:
        """langdetect's random seed (fixed by this module), read by each detector."""
        return DetectorFactory.seed


_profiles: Profiles | None = None


def load_profiles() -> Profiles:
    """langdetect's language profiles, read once per process (about 0.05 s; see :class:`Profiles`)."""
    global _profiles
    if _profiles is None:
        _profiles = Profiles()
    return _profiles


def language_sample(text: str, sample_size: int = DEFAULT_SAMPLE) -> str:
    """The part of *text* language detection reads: its prose lines up to *sample_size* characters, else (little
    prose) its first *sample_size* characters; noise (URLs, addresses, hashes) removed."""
    size = max(1, sample_size)
    chosen: list[str] = []
    total = 0
    for match in _LONG_LINE.finditer(text):
        line = match.group(0)
        if line.count(" ") >= PROSE_LINE_SPACES:
            chosen.append(line)
            total += len(line) + 1
            if total >= size:
                break
    sample = "\n".join(chosen)[:size] if total >= MIN_PROSE_SAMPLE else text[:size]
    return _NOISE.sub(" ", sample)


def detect_language(text: str, sample_size: int = DEFAULT_SAMPLE) -> dict[str, Any]:
    """Return ``{"code": ISO 639-1 code (or "zh-cn"/"zh-tw"), "probability": 0..1}`` for *text*, judged on
    *sample_size* characters of its prose (see :func:`language_sample`), or ``{"code": "unknown",
    "probability": 0.0}`` when the sample has fewer than 20 letters or langdetect finds no feature. Never raises."""
    sample = language_sample(text, sample_size)
    if len(_NOT_LETTERS.sub("", sample)) < MIN_LETTERS:
        return dict(UNKNOWN)
    try:
        detector = _Detector(load_profiles())  # read once, then a no-op
        detector.n_trial = TRIALS
        detector.append(sample)
        ranked = detector.get_probabilities()
    except LangDetectException:
        return dict(UNKNOWN)
    except Exception:  # langdetect is old code; a page must never stop the chain
        log.debug("language detection failed", exc_info=True)
        return dict(UNKNOWN)
    if not ranked:
        return dict(UNKNOWN)
    best = ranked[0]
    return {"code": str(best.lang), "probability": round(float(best.prob), 4)}
