"""Characters that render as nothing, removed from a page's text before any finder reads it. Rules in docs/signals.md
("Invisible characters and word boundaries").

Offers :func:`strip_invisible` and :data:`INVISIBLE_RANGES`. A soft hyphen, a zero-width space, a bidirectional
mark (LRM, RLO...) or a combining grapheme joiner inside an address hides it from a pattern while a reader of the
page still sees the address whole: ``ad<U+200B>min@x.com`` reads ``admin@x.com``. So every character of Unicode
category Cf (format) and every Default_Ignorable_Code_Point (DerivedCoreProperties.txt: U+034F, the Hangul fillers,
the variation selectors, the tag characters...) is removed, once, in :func:`pipelines.extract.text.normalise_text`:
every stage reads that text, and the text, title and contexts stored for analysts carry none of them.
"""

from __future__ import annotations

import re

# Category Cf (Unicode 15) and Default_Ignorable_Code_Point, merged into ranges; tests/unit/extract/test_invisible.py
# checks them against this Python's unicodedata.
INVISIBLE_RANGES = (
    "\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u115f-\u1160\u17b4-\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_INVISIBLE = re.compile(f"[{INVISIBLE_RANGES}]+")


def strip_invisible(text: str) -> str:
    """*text* without format and default-ignorable characters (the same object when it has none). Linear: one
    character-class scan; for ASCII text none, for Latin-1 text (most European pages) a search for the one invisible
    character there, the soft hyphen (ten times cheaper than the scan)."""
    if text.isascii():
        return text
    try:
        text.encode("latin-1")  # one byte a character when it fits; raises at the first character that does not
    except UnicodeEncodeError:
        return _INVISIBLE.sub("", text)
    return text.replace("\u00ad", "") if "\u00ad" in text else text
