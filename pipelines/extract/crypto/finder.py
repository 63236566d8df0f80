"""Find cryptocurrency addresses in page text: candidate runs by a byte mask, then validation of candidates only.

Offers :func:`find_crypto_addresses` (all addresses in a text, each with its context) and
:func:`validate_address` (one string). A candidate is a whole run of ASCII letters and digits: a run that touches
another letter, digit or Base64 character (``+``, ``/``, ``=``) on either side is part of something longer (PGP
armor, a Base64 blob, a hash, two addresses glued together, a URL path segment) and is skipped. Two exceptions keep
real payment links: ``scheme:ADDRESS`` (``bitcoin:``, ``bitcoincash:``, also ``bitcoin://``) and query values
(``?address=ADDRESS``), also URL-encoded (``?chl=bitcoin%3AADDRESS``, as in QR-code image links).
Solana keys carry no checksum, so they are reported only with a Solana word (``solana``, ``SOL``, ``phantom``...)
near them, and only in mixed case (as random keys are; hex digests and lowercase identifiers are not).
"""

from __future__ import annotations

import re
from functools import partial

from ..caps import Capped, Distinct
from .address import CryptoAddress
from .chains import MAX_TOKEN, SOLANA_LENGTHS, Classified, classify_token

# Candidates are maximal runs of ASCII letters/digits. Every address has at least 25 characters except a short
# SegWit v2+ one (bc1/ltc1 and a 2-16 byte program: 14-24), so runs are found on a byte mask of the text with
# bytes.find of 25 run bytes, and the short SegWit ones by their head; the long words of prose are never visited.
# bytes.find is about ten times faster than any regex over the str (CPython's regex engine costs ~7 ns per
# position). "+" and "/" count as run characters in the mask, so a Base64 blob is one run dismissed at once, and a
# run holding either is never an address.
_MIN_RUN = 14
_SHORT_RUN = 25
_LONG_RUN = b"a" * _SHORT_RUN
_IN_RUN = ord("a")
_PERCENT = ord("%")
_SHORT_HEADS = ("bc1", "ltc1")
_SHORT_HEAD_BYTES = tuple(head.encode() for head in _SHORT_HEADS)
_MASK = bytes(ord("a") if (chr(c).isascii() and chr(c).isalnum()) or chr(c) in "+/" else ord(" ") for c in range(256))
_QUERY_KEY = re.compile(r"(?:^|[^A-Za-z0-9+/=])[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,39}=$")
_PREFIX_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_MAX_PREFIX = 64
# Solana words: the name, wallets/explorers, SPL tokens, the ticker in capitals, and "sol" as a URI scheme or a
# query value ("coin=sol"); plain lowercase "sol" is a common word (sun, soil) in several languages.
_SOLANA_WORDS = re.compile(
    r"(?i:\bsolana\b|\bphantom\b|\bsolflare\b|\bsolscan\b|\bspl\b|\bsol(?=:)|(?<==)sol\b)|\bSOL\b"
)
# Every Solana word holds one of these: a cheap test before the regex.
_SOLANA_PARTS = ("sol", "phantom", "spl")
# Percent-escapes read as the separator they encode, in URL-encoded links (QR-code image URLs, redirects):
# "chl=bitcoin%3A1Bv...%3Famount%3D1", "to%3D1Bv...". After a run, escaped "+", "/" or "=" glue it like the real ones.
_ESCAPED_SEPARATORS = {"3A": ":", "3D": "=", "20": " "}
_ESCAPED_GLUE = frozenset(("2B", "2F", "3D"))
_ESCAPED_QUERY_KEY = re.compile(r"(?:^|[^A-Za-z0-9+/=%]|%3[Ff]|%26)[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,39}$")
_LOOKBACK = 42
_LEFT_SPECIAL = frozenset("=:")
CONTEXT_CHARS = 30
SOLANA_WINDOW = 60


def _context(text: str, start: int, end: int) -> str:
    """Up to CONTEXT_CHARS either side of ``text[start:end]``, whitespace-collapsed.

    A word cut in half at either edge is dropped, unless it is all there is on that side (markup without spaces).
    """
    left_from = max(0, start - CONTEXT_CHARS)
    left = text[left_from:start]
    if left_from and not text[left_from - 1].isspace() and not text[left_from].isspace():
        parts = left.split(None, 1)
        left = parts[1] if len(parts) == 2 else left
    right_to = end + CONTEXT_CHARS
    right = text[end:right_to]
    if right_to < len(text) and not text[right_to].isspace() and not text[right_to - 1].isspace():
        parts = right.rsplit(None, 1)
        right = parts[0] if len(parts) == 2 else right
    return " ".join((left + text[start:end] + right).split())


def _glued_right(text: str, end: int) -> bool:
    """Whether the run ending at ``end`` continues as Base64 padding or, URL-encoded, as ``+``, ``/`` or ``=``."""
    if end >= len(text):
        return False
    follower = text[end]
    return follower == "=" or (follower == "%" and text[end + 1 : end + 3].upper() in _ESCAPED_GLUE)


def _readings(text: str, start: int) -> tuple[tuple[int, str, int], ...]:
    """The ways to read a run starting at ``start``: ``(token start, separator before it, separator position)``.

    A run right after ``%`` that opens with an escaped separator (``bitcoin%3A1Bv...`` in a QR-code image URL) is
    first read without the escape, as the separator it encodes; then, as written.
    """
    as_written = (start, text[start - 1] if start else "", start - 1)
    decoded = _ESCAPED_SEPARATORS.get(text[start : start + 2].upper()) if as_written[1] == "%" else None
    return (as_written,) if decoded is None else ((start + 2, decoded, start - 1), as_written)


def _prefix(text: str, start: int, before: str, left: int) -> tuple[bool, str | None]:
    """Check the left boundary of a token starting at ``start``; ``before`` is the separator at ``left``.

    Returns ``(acceptable, prefix)``: an ``=`` is acceptable only after a query parameter name, and after a colon
    the word glued to it is the prefix as written (a CashAddr network, which its checksum must cover, or a URI
    scheme such as ``bitcoin``).
    """
    if before == "=":
        if start == left + 1:
            return _QUERY_KEY.search(text, max(0, start - _LOOKBACK), start) is not None, None
        return _ESCAPED_QUERY_KEY.search(text, max(0, left - _LOOKBACK - 2), left) is not None, None
    if before != ":":
        return True, None
    word_start = left
    while word_start > 0 and left - word_start < _MAX_PREFIX and text[word_start - 1] in _PREFIX_CHARS:
        word_start -= 1
    if word_start and text[word_start - 1] == "%":
        word_start += 2  # the word follows an escape ("chl%3Dbitcoincash%3Aq..."): its two hex digits are not in it
    return True, text[word_start:left] or None


def _runs(encoded: bytes, mask: bytes) -> list[tuple[int, int]]:
    """Start and end of every candidate run, in text order.

    Runs of 25 or more mask bytes, and runs of 14-24 that open with ``bc1``/``ltc1`` in either case, directly, after
    a percent-escape (``%3Abc1...``) or after ``://``.
    """
    size = len(mask)
    runs: list[tuple[int, int]] = []
    pos = 0
    while (start := mask.find(_LONG_RUN, pos)) >= 0:
        end = mask.find(b" ", start + _SHORT_RUN)
        if end < 0:
            end = size
        runs.append((start, end))
        pos = end
    lowered = encoded.lower()
    count = len(runs)
    for head in _SHORT_HEAD_BYTES:
        pos = 0
        while (at := lowered.find(head, pos)) >= 0:
            pos = at + 1
            start = at
            if at and mask[at - 1] == _IN_RUN:
                opener = encoded[at - 3 : at] if at >= 3 else b""  # "%XX" or "://" (the mask keeps "/")
                if not (opener and mask[at - 2] == _IN_RUN and (opener[0] == _PERCENT or opener == b"://")):
                    continue  # inside a run, not at its start
                start = at - 2
            end = mask.find(b" ", at)
            if end < 0:
                end = size
            if _MIN_RUN <= end - start < _SHORT_RUN:
                runs.append((start, end))
    if len(runs) > count:
        runs.sort()
    return runs


def find_crypto_addresses(text: str, *, limit: int | None = None) -> Capped[CryptoAddress]:
    """Return the valid addresses in ``text``, unique by address, in order of first appearance: at most *limit*,
    the distinct addresses past it counted (validated, without a context) in ``beyond``.

    Every address passed its format's checksum, except Solana keys (no checksum; reported only near a Solana
    word) and single-case Ethereum addresses (``checksum="none"``). Never raises on any ``str``. Linear time:
    runs are found by ``bytes.find`` on a mask, and each run is read once.
    """
    found: Distinct[str, CryptoAddress] = Distinct(limit)
    classified: dict[tuple[str, str | None], Classified | None] = {}  # pages repeat their payment address
    solana: dict[str, Classified | None] = {}
    # latin-1 with "replace" keeps one byte per character, so mask positions are text positions.
    encoded = text.encode("latin-1", "replace")
    mask = encoded.translate(_MASK)
    size = len(mask)
    for start, end in _runs(encoded, mask):
        if end - start > MAX_TOKEN or (end < size and text[end] in "=%" and _glued_right(text, end)):
            continue
        if (start and text[start - 1].isalnum()) or (end < size and text[end].isalnum()):
            continue  # glued to a letter or digit outside ASCII ("é1Bv..."): the end of a longer word
        before = text[start - 1] if start else ""
        left = start - 1
        if before == ":" and text.startswith("//", start):
            start += 2  # "bitcoin://ADDRESS", a common variant of "bitcoin:ADDRESS"
        run = text[start:end]
        if "+" in run or "/" in run:
            continue
        readings = _readings(text, start) if before == "%" else ((start, before, left),)
        for token_start, token_before, left in readings:
            token = run if token_start == start else text[token_start:end]
            if len(token) < _SHORT_RUN and not token[:4].lower().startswith(_SHORT_HEADS):
                continue  # a percent-escape read off a run of 25 or 26
            prefix: str | None = None
            if token_before in _LEFT_SPECIAL:
                acceptable, prefix = _prefix(text, token_start, token_before, left)
                if not acceptable:
                    continue
            key = (token, prefix)
            if key in classified:
                result = classified[key]
            else:
                result = classified[key] = classify_token(token, prefix, solana=False)
            if result is None:
                # The checksum-less Solana reading, only for a mixed-case token (a random 32-byte key in Base58 is
                # single-case with odds ~1e-9; hex digests and lowercase identifiers are) with a Solana word near.
                if len(token) not in SOLANA_LENGTHS or token.islower() or token.isupper():
                    continue
                window = text[max(0, token_start - SOLANA_WINDOW) : end + SOLANA_WINDOW]
                lowered = window.lower()
                if not any(part in lowered for part in _SOLANA_PARTS) or not _SOLANA_WORDS.search(window):
                    continue
                if token not in solana:
                    solana[token] = classify_token(token, prefix)
                result = solana[token]
                if result is None:
                    continue
            span_start = left - len(prefix) if prefix and result.currency == "BCH" else token_start
            found.add(result.address, partial(_address, result, text, span_start, end))
            break
    return found.result()


def _address(result: Classified, text: str, start: int, end: int) -> CryptoAddress:
    return CryptoAddress(
        currency=result.currency,
        address=result.address,
        kind=result.kind,
        context=_context(text, start, end),
        ambiguous_with=result.ambiguous_with,
        checksum=result.checksum,
    )


_SINGLE = re.compile(r"(?:([A-Za-z]+):)?([A-Za-z0-9]+)")


def validate_address(candidate: str) -> CryptoAddress | None:
    """Classify one string (surrounding whitespace ignored) as an address, with an empty context.

    Accepts a bare address or ``scheme:ADDRESS`` without URI parameters. The scheme matters for CashAddr only:
    ``bitcoincash:`` is covered by its checksum, and any other prefix rules CashAddr out (``ecash:`` and
    ``bchtest:`` addresses are not Bitcoin Cash mainnet). Unlike the finder it reports a 32-byte Base58 string as
    Solana without a nearby Solana word: the caller asked about this very string. Returns ``None`` for anything
    else; never raises on any ``str``.
    """
    match = _SINGLE.fullmatch(candidate.strip())
    if match is None:
        return None
    result = classify_token(match.group(2), match.group(1))
    if result is None:
        return None
    return CryptoAddress(
        currency=result.currency,
        address=result.address,
        kind=result.kind,
        context="",
        ambiguous_with=result.ambiguous_with,
        checksum=result.checksum,
    )
