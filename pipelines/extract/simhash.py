"""64-bit SimHash of a page's text, for near-duplicate detection (clones, mirrors, phishing copies).

Offers :func:`simhash` (text -> 16 hex digits) and :func:`hamming` (bit distance of two such strings). Pages whose
SimHashes differ in a few bits (3 or fewer is the usual threshold) share most of their three-word shingles.

Features are the distinct three-word shingles of the casefolded text (a page shorter than three words uses its
words). Word hashes are BLAKE2b digests, so the value is stable across processes and machines.
"""

from __future__ import annotations

import hashlib
import re
import struct

SHINGLE_WORDS = 3
MAX_WORDS = 20000  # words read at most: beyond this a page's fingerprint is settled
_WORD = re.compile(r"\w+")
_EMPTY = "0" * 16
_MASK = (1 << 64) - 1
# _BIT_TABLES[k] maps a byte to 1 when its bit k (7 = most significant) is set, else 0, for bytes.translate.
_BIT_TABLES = [bytes((value >> k) & 1 for value in range(256)) for k in range(8)]


# word -> its 64-bit hash rotated by 42, 21 and 0 bits (its three positions in a shingle), one mapping per position
# so that a page's shingles are XORed by map() in C; shared by all pages, whose vocabularies overlap; cleared when
# they grow large.
_FIRST: dict[str, int] = {}
_SECOND: dict[str, int] = {}
_THIRD: dict[str, int] = {}
_WORD_HASHES_MAX = 200_000


def _rotate(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _word_hashes(word: str) -> tuple[int, int, int]:
    value = int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
    return _rotate(value, 42), _rotate(value, 21), value


def simhash(text: str) -> str:
    """Return the 64-bit SimHash of *text* as 16 lowercase hex digits (``"0000000000000000"`` for no words).

    Each distinct word is hashed once (BLAKE2b, 64 bits); a shingle's hash is the XOR of its words' hashes rotated
    by their position, so word order matters and a distinct shingle costs two XORs.
    """
    words = _WORD.findall(text.casefold())[:MAX_WORDS]
    if not words:
        return _EMPTY
    if len(_THIRD) >= _WORD_HASHES_MAX:
        _FIRST.clear()
        _SECOND.clear()
        _THIRD.clear()
    for word in set(words).difference(_THIRD):
        _FIRST[word], _SECOND[word], _THIRD[word] = _word_hashes(word)
    if len(words) < SHINGLE_WORDS:
        features = {_THIRD[words[0]] if len(words) == 1 else _SECOND[words[0]] ^ _THIRD[words[1]]}
    else:  # a page repeats its shingles (navigation, listings): each distinct one is hashed once
        first, second, third = _FIRST, _SECOND, _THIRD
        shingles = set(zip(words, words[1:], words[2:], strict=False))
        features = {first[a] ^ second[b] ^ third[c] for a, b, c in shingles}
    data = struct.pack(f">{len(features)}Q", *features)
    half = len(features) / 2
    result = 0
    for byte_index in range(8):
        column = data[byte_index::8]
        for bit in range(8):
            if column.translate(_BIT_TABLES[bit]).count(1) > half:
                result |= 1 << (8 * (7 - byte_index) + bit)
    return f"{result:016x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two SimHash hex strings. Raises ``ValueError`` if either is not hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
