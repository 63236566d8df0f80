"""The text around a value, as a match carries it: at most :data:`~crawler.watch.model.CONTEXT_CHARS` characters,
whitespace collapsed, format characters (zero-width spaces, direction marks: a trick to hide a phrase) removed.

Offers :func:`page_text` (what the text matchers read: title and text), :func:`context_around` and
:func:`address_context` (extraction's own context of a crypto address).
"""

from __future__ import annotations

import re
from typing import Any

from crawler.watch.model import CONTEXT_CHARS

# Unicode's format characters (category Cf, Unicode 15); tests/unit/test_watch_context.py checks the list against
# unicodedata.
FORMAT_CHARACTERS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def page_text(page: dict[str, Any]) -> str:
    """The title and the text of a page document, one line apart (as extraction reads them for keywords)."""
    title = str(page.get("title") or (page.get("signals") or {}).get("title") or "")
    return f"{title}\n{page.get('text') or ''}"


def context_around(text: str, start: int, end: int) -> str:
    """The text around ``text[start:end]``, centred on it, at most ``CONTEXT_CHARS`` characters once cleaned."""
    margin = max(0, (CONTEXT_CHARS - (end - start)) // 2)
    window = text[max(0, start - margin - 20):end + margin + 20]
    cleaned = " ".join((window if window.isascii() else FORMAT_CHARACTERS.sub("", window)).split())
    if len(cleaned) <= CONTEXT_CHARS:
        return cleaned
    value = " ".join(text[start:end].split())
    at = cleaned.find(value)
    if at < 0:
        return cleaned[:CONTEXT_CHARS]
    left = max(0, min(at - (CONTEXT_CHARS - len(value)) // 2, len(cleaned) - CONTEXT_CHARS))
    return cleaned[left:left + CONTEXT_CHARS]


def address_context(page: dict[str, Any], address: str) -> str:
    """The context extraction recorded for crypto *address* on *page* (any case), cleaned; ``""`` if none."""
    for found in (page.get("signals") or {}).get("crypto_addresses") or []:
        if str(found.get("address") or "").lower() == address.lower() and found.get("context"):
            return context_around(str(found["context"]), 0, 0)
    return ""
