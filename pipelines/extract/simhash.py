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
from collections.abc import Sequence

SHINGLE_WORDS = 3
MAX_WORDS = 20000  # words read at most: beyond this a page's fingerprint is settled
_WORD = re.compile(r"\w+")
_EMPTY = "0" * 16
_MASK = (1 << 64) - 1
# Latin-1 byte -> itself when its character is a word character of _WORD (str.isalnum or "_", as \w), else a space:
# a Latin-1 text's words by bytes.translate and bytes.split, three times cheaper than _WORD.findall.
_LATIN1_WORDS = bytes(value if chr(value).isalnum() or value == 0x5F else 0x20 for value in range(256))


# word -> its 64-bit hash rotated by 42, 21 and 0 bits (its three positions in a shingle), one mapping per position
# so that a page's shingles are XORed by map() in C; shared by all pages, whose vocabularies overlap; cleared when
# they grow large.
_FIRST: dict[str | bytes, int] = {}
_SECOND: dict[str | bytes, int] = {}
_THIRD: dict[str | bytes, int] = {}
_WORD_HASHES_MAX = 200_000


def _rotate(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _word_hashes(word: str | bytes) -> tuple[int, int, int]:
    """*word* (a str, or a Latin-1 encoded word of :func:`_words`) hashed by its UTF-8 bytes, rotated as in a
    shingle."""
    utf8 = word.decode("latin-1").encode("utf-8") if isinstance(word, bytes) else word.encode("utf-8", "surrogatepass")
    value = int.from_bytes(hashlib.blake2b(utf8, digest_size=8).digest(), "big")
    return _rotate(value, 42), _rotate(value, 21), value


def _words(text: str) -> list[str] | list[bytes]:
    """The ``\\w+`` words of *text* casefolded, in order: Latin-1 encoded bytes when the folded text fits Latin-1
    (most pages: by translate and split), else strs (by the regular expression). A word's hash is the same either
    way (:func:`_word_hashes`); the caches hold both kinds of keys, which never compare equal."""
    folded = text.casefold()
    try:
        encoded = folded.encode("latin-1")
    except UnicodeEncodeError:
        return _WORD.findall(folded)
    return encoded.translate(_LATIN1_WORDS).split()


def simhash(text: str) -> str:
    """Return the 64-bit SimHash of *text* as 16 lowercase hex digits (``"0000000000000000"`` for no words).

    Each distinct word is hashed once (BLAKE2b, 64 bits); a shingle's hash is the XOR of its words' hashes rotated
    by their position, so word order matters and a distinct shingle costs two XORs.
    """
    words: Sequence[str | bytes] = _words(text)[:MAX_WORDS]
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
    # Bit k of the result is set when more than half the features have it: the features' bytes at one position
    # form one big integer (a byte a feature), whose bit b of every byte is counted by a shift, a mask and
    # int.bit_count.
    data = struct.pack(f">{len(features)}Q", *features)
    half = len(features) / 2
    low_bits = int.from_bytes(b"\x01" * len(features), "big")  # bit 0 of every byte
    result = 0
    for byte_index in range(8):
        column = int.from_bytes(data[byte_index::8], "big")
        for bit in range(8):
            if ((column >> bit) & low_bits).bit_count() > half:
                result |= 1 << (8 * (7 - byte_index) + bit)
    return f"{result:016x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two SimHash hex strings. Raises ``ValueError`` if either is not hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
