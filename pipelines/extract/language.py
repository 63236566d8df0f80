"""Language of a page's text, with langdetect. Contract in docs/signals.md (``language``).

Offers :func:`detect_language` (text -> ``{"code", "probability"}``). langdetect is randomised: the seed is fixed
here so that the same page always gets the same answer. Only a bounded sample is read (the first
``DARKCRAWL_LANGUAGE_SAMPLE`` characters): the language is settled long before, and the cost grows with length.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from langdetect import DetectorFactory, detector_factory
from langdetect.lang_detect_exception import LangDetectException

log = logging.getLogger(__name__)

DetectorFactory.seed = 0
UNKNOWN: dict[str, Any] = {"code": "unknown", "probability": 0.0}
DEFAULT_SAMPLE = 2000  # characters of cleaned text read by default
MIN_LETTERS = 20  # fewer letters than this in the sample: "unknown" rather than a guess
_NOT_LETTERS = re.compile(r"[\W\d_]+")
# URLs, onions, e-mails, and words with digits or of 25+ characters (addresses, hashes, base64): not language.
_NOISE = re.compile(r"\S*(?:://|\.onion|@)\S*|\w*\d\w*|\w{25,}")


def load_profiles() -> None:
    """Load langdetect's language profiles now (about 0.3 s, once per process) rather than on the first page."""
    detector_factory.init_factory()


def detect_language(text: str, sample_size: int = DEFAULT_SAMPLE) -> dict[str, Any]:
    """Return ``{"code": ISO 639-1 code (or "zh-cn"/"zh-tw"), "probability": 0..1}`` for *text*, judged on its first
    *sample_size* characters (URLs, addresses, hashes left out), or ``{"code": "unknown", "probability": 0.0}`` when
    the sample has fewer than 20 letters or langdetect finds no feature. Never raises."""
    sample = _NOISE.sub(" ", text[: max(1, sample_size)])
    if len(_NOT_LETTERS.sub("", sample)) < MIN_LETTERS:
        return dict(UNKNOWN)
    try:
        detector_factory.init_factory()  # loads the profiles once, then a no-op
        detector = detector_factory._factory.create()
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
