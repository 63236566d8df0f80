"""Tor v3 onion addresses: validation and discovery in links and text. Contract in docs/signals.md (``onions``).

Offers :func:`find_onions` (every v3 onion named in a text, obfuscated forms included). Whether a hostname is a
real v3 onion (:func:`crawler.identity.is_valid_onion_v3`, :func:`~crawler.identity.onion_host`) is answered in
:mod:`crawler.identity`, for the whole crawler.

A v3 address is base32(pubkey[32] | checksum[2] | version[1]) with version 3 and
checksum = SHA3-256(".onion checksum" | pubkey | version)[:2] (rend-spec-v3, "Encoding onion addresses"). Every
candidate is checked against that checksum, so random text yields an onion with odds of about 2^-24, and v2 or
made-up addresses are never reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from crawler.identity import normalise_onion as _normalise_onion
from crawler.identity import onion_label_is_valid

from .caps import Capped, Distinct
from .casing import lower_same_length


def normalise_onion(host: str) -> str | None:
    """:func:`crawler.identity.normalise_onion`, memoized for the hosts of a page's links."""
    return _normalised(host) if isinstance(host, str) else None


_normalised = lru_cache(maxsize=8192)(_normalise_onion)  # a page's links name the same onions again and again


# What may stand between a label and "onion": ".", "[.]", "(.)", "{.}", "[dot]", "(dot)", " dot ", " . ". Matched
# at the end of the few characters before each "onion" (found with str.find), so scanning a page stays cheap.
_SEPARATOR_TAIL = re.compile(
    r"(?:\s*(?:\.|\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*|\s+dot\s+)$",
    re.IGNORECASE,
)
_SEPARATOR_WINDOW = 16
# The last 56 base32 letters before a separator, read backwards (on the reversed text) so that the match is anchored
# and bounded: spaces and line breaks between the letters are skipped (a label broken up by a page's layout).
_GAP = r"[\s\u200b\u200c\u200d\u2060\ufeff]"
_LABEL_REVERSED = re.compile(rf"(?:[a-z2-7]{_GAP}*+){{55}}[a-z2-7]")
_SPACES = re.compile(f"{_GAP}+")
_LOOKBACK = 160  # characters before a suffix that may hold a 56-character label split by spaces


def _label_before(text: str, end: int) -> str | None:
    """The valid onion label that ends at *end* in *text* (directly, or split by spaces), else ``None``; also
    ``None`` when the label would start inside a word (57 letters ending in a valid label name no onion)."""
    start = max(0, end - _LOOKBACK)
    window = lower_same_length(text[start:end]).rstrip()
    match = _LABEL_REVERSED.match(window[::-1])
    if match is None:
        return None
    first = start + len(window) - match.end()  # where the label starts in text
    if first > 0 and text[first - 1].isalnum():
        return None
    label = _SPACES.sub("", match.group(0))[::-1]
    return label if onion_label_is_valid(label) else None


def find_onions(text: str, extra_hosts: Iterable[str] = (), *, limit: int | None = None) -> Capped[str]:
    """Return the distinct v3 onion hostnames named in *text*, lowercase, in order of first appearance.

    Finds plain ``xxx.onion`` (in URLs too) and the obfuscated forms ``xxx[.]onion``, ``xxx (.) onion``,
    ``xxx [dot] onion``, ``xxx dot onion``, ``xxx . onion``, and labels broken up by spaces. Hosts from
    *extra_hosts* (link targets, say) are validated and listed first. At most *limit* are returned, the others
    counted in ``beyond``. Never raises; linear time (each "onion" costs a bounded look at the text before it).
    """
    found: Distinct[str, str] = Distinct(limit)
    for host in extra_hosts:
        bare = normalise_onion(host)
        if bare:
            found.put(bare, bare)
    if not text:
        return found.result()
    lowered = lower_same_length(text)
    position = lowered.find("onion")
    while position != -1:
        after = position + len("onion")
        if after >= len(lowered) or not lowered[after].isalnum():
            window_start = max(0, position - _SEPARATOR_WINDOW)
            separator = _SEPARATOR_TAIL.search(lowered, window_start, position)
            if separator:
                label = _label_before(text, separator.start())
                if label:
                    host = f"{label}.onion"
                    found.put(host, host)
        position = lowered.find("onion", after)
    return found.result()
