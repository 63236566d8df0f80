"""Tor v3 onion addresses: validation and discovery in links and text. Contract in docs/signals.md (``onions``).

Offers :func:`is_valid_onion_v3` (is this hostname a real v3 onion?), :func:`onion_host` (the v3 onion hostname of a
URL, or ``None``) and :func:`find_onions` (every v3 onion named in a text, obfuscated forms included).

A v3 address is base32(pubkey[32] | checksum[2] | version[1]) with version 3 and
checksum = SHA3-256(".onion checksum" | pubkey | version)[:2] (rend-spec-v3, "Encoding onion addresses"). Every
candidate is checked against that checksum, so random text yields an onion with odds of about 2^-24, and v2 or
made-up addresses are never reported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from .casing import lower_same_length

ONION_LABEL_LENGTH = 56
_BASE32_LABEL = re.compile(r"[a-z2-7]{56}")
# What may stand between a label and "onion": ".", "[.]", "(.)", "{.}", "[dot]", "(dot)", " dot ", " . ". Matched
# at the end of the few characters before each "onion" (found with str.find), so scanning a page stays cheap.
_SEPARATOR_TAIL = re.compile(
    r"(?:\s*(?:\.|\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\})\s*|\s+dot\s+)$",
    re.IGNORECASE,
)
_SEPARATOR_WINDOW = 16
_STRICT_TAIL = re.compile(r"(?<![a-z2-7])([a-z2-7]{56})$")
_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_LOOKBACK = 160  # characters before a suffix that may hold a 56-character label split by spaces


@lru_cache(maxsize=8192)
def _label_is_valid(label: str) -> bool:
    """True when the 56-character lowercase *label* decodes to a version-3 key with a matching checksum."""
    if len(label) != ONION_LABEL_LENGTH or not _BASE32_LABEL.fullmatch(label):
        return False
    try:
        raw = base64.b32decode(label.upper())
    except (binascii.Error, ValueError):
        return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:35]
    if version != b"\x03":
        return False
    return hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2] == checksum


def is_valid_onion_v3(host: str) -> bool:
    """Return True when *host* is a v3 onion hostname (``<56 base32>.onion``, any case, subdomains and a trailing
    dot allowed) whose version byte is 3 and whose checksum holds. Never raises."""
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    if not name.endswith(".onion"):
        return False
    label = name[: -len(".onion")].rsplit(".", 1)[-1]
    return _label_is_valid(label)


def normalise_onion(host: str) -> str | None:
    """Return the bare lowercase ``<label>.onion`` of a valid v3 *host* (subdomains dropped), else ``None``."""
    if not is_valid_onion_v3(host):
        return None
    label = host.strip().rstrip(".").lower()[: -len(".onion")].rsplit(".", 1)[-1]
    return f"{label}.onion"


def onion_host(url: str) -> str | None:
    """Return the v3 onion hostname (lowercase, subdomains dropped) that *url* points to, or ``None`` when the URL
    is malformed or its host is not a valid v3 onion. A bare hostname without scheme is accepted."""
    if not isinstance(url, str) or not url.strip():
        return None
    candidate = url.strip()
    if "://" not in candidate:
        candidate = "http://" + candidate
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        return None
    return normalise_onion(host)


def _label_before(text: str, end: int) -> str | None:
    """The valid onion label that ends at *end* in *text* (directly, or split by spaces), else ``None``."""
    window = text[max(0, end - _LOOKBACK) : end]
    strict = _STRICT_TAIL.search(window.lower().rstrip())
    if strict and _label_is_valid(strict.group(1)):
        return strict.group(1)
    squeezed = _SPACES.sub("", window).lower()
    if len(squeezed) >= ONION_LABEL_LENGTH:
        label = squeezed[-ONION_LABEL_LENGTH:]
        if _label_is_valid(label):
            return label
    return None


def find_onions(text: str, extra_hosts: Iterable[str] = ()) -> list[str]:
    """Return the distinct v3 onion hostnames named in *text*, lowercase, in order of first appearance.

    Finds plain ``xxx.onion`` (in URLs too) and the obfuscated forms ``xxx[.]onion``, ``xxx (.) onion``,
    ``xxx [dot] onion``, ``xxx dot onion``, ``xxx . onion``, and labels broken up by spaces. Hosts from
    *extra_hosts* (link targets, say) are validated and listed first. Never raises.
    """
    found: dict[str, None] = {}
    for host in extra_hosts:
        bare = normalise_onion(host)
        if bare:
            found.setdefault(bare, None)
    if not text:
        return list(found)
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
                    found.setdefault(f"{label}.onion", None)
        position = lowered.find("onion", after)
    return list(found)
