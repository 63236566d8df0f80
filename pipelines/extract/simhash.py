"""64-bit SimHash of a page's text, for near-duplicate detection (clones, mirrors, phishing copies).

Offers :func:`simhash` (text -> 16 hex digits) and :func:`hamming` (bit distance of two such strings). Pages whose
SimHashes differ in a few bits (3 or fewer is the usual threshold) share most of their three-word shingles.

Features are the distinct three-word shingles of the casefolded text (a page shorter than three words uses its
words). Word hashes are BLAKE2b digests, so the value is stable across processes and machines.
"""

from __future__ import annotations

import hashlib
import re

SHINGLE_WORDS = 3
MAX_WORDS = 20000  # words read at most: beyond this a page's fingerprint is settled
_WORD = re.compile(r"\w+")
_EMPTY = "0" * 16
_MASK = (1 << 64) - 1
_MIX = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)  # odd 64-bit multipliers: each word's position in a shingle counts
# _BIT_TABLES[k] maps a byte to 1 when its bit k (7 = most significant) is set, else 0, for bytes.translate.
_BIT_TABLES = [bytes((value >> k) & 1 for value in range(256)) for k in range(8)]


_WORD_HASHES: dict[str, int] = {}  # shared by all pages (their vocabularies overlap); cleared when it grows large
_WORD_HASHES_MAX = 200_000


def _word_hash(word: str) -> int:
    value = _WORD_HASHES.get(word)
    if value is None:
        if len(_WORD_HASHES) >= _WORD_HASHES_MAX:
            _WORD_HASHES.clear()
        value = int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
        _WORD_HASHES[word] = value
    return value


def simhash(text: str) -> str:
    """Return the 64-bit SimHash of *text* as 16 lowercase hex digits (``"0000000000000000"`` for no words).

    Each distinct word is hashed once (BLAKE2b, 64 bits); a shingle's hash mixes its words' hashes with fixed odd
    multipliers, so word order matters and the cost per shingle is a few integer operations.
    """
    words = _WORD.findall(text.casefold())[:MAX_WORDS]
    if not words:
        return _EMPTY
    vocabulary = {word: _word_hash(word) for word in set(words)}
    hashes = [vocabulary[word] for word in words]
    if len(hashes) < SHINGLE_WORDS:
        features = {hashes[0] if len(hashes) == 1 else (hashes[0] * _MIX[0] ^ hashes[1]) & _MASK}
    else:
        k1, k2 = _MIX
        features = {(a * k1 ^ b * k2 ^ c) & _MASK for a, b, c in zip(hashes, hashes[1:], hashes[2:], strict=False)}
    data = b"".join(value.to_bytes(8, "big") for value in features)
    half = len(features) / 2
    value = 0
    for byte_index in range(8):
        column = data[byte_index::8]
        for bit in range(8):
            if column.translate(_BIT_TABLES[bit]).count(1) > half:
                value |= 1 << (8 * (7 - byte_index) + bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two SimHash hex strings. Raises ``ValueError`` if either is not hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
