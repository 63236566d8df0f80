"""SimHash: stable, near-duplicates close, unrelated pages far."""

from __future__ import annotations

import hashlib
import random
import re

from pipelines.extract.simhash import _LATIN1_WORDS, _words, hamming, simhash


def corpus(seed: int, words: int = 800) -> str:
    rng = random.Random(seed)
    vocabulary = [f"w{n}" for n in range(3000)]
    return " ".join(rng.choice(vocabulary) for _ in range(words))


def test_format_and_stability() -> None:
    value = simhash("the quick brown fox jumps over the lazy dog")
    assert len(value) == 16 and int(value, 16) >= 0
    assert value == simhash("The  QUICK brown fox, jumps over the lazy dog!")  # case and punctuation ignored
    assert simhash("") == "0" * 16 and simhash("!!!") == "0" * 16


def test_near_duplicates_are_close_and_others_far() -> None:
    page = corpus(1)
    edited = page.replace(page.split()[400], "changed", 1) + " footer text"
    assert hamming(simhash(page), simhash(edited)) <= 6
    distances = [hamming(simhash(corpus(1)), simhash(corpus(seed))) for seed in range(2, 12)]
    assert min(distances) >= 15


def test_hamming() -> None:
    assert hamming("0000000000000000", "ffffffffffffffff") == 64
    assert hamming("00000000000000f0", "0000000000000010") == 3


def test_values_pinned_on_both_word_paths() -> None:
    # Values of the implementation before the Latin-1 fast path; the first two texts go through bytes, the third
    # (Cyrillic) through the regular expression, the last two through the one- and two-word cases.
    assert simhash("the quick brown fox jumps over the lazy dog") == "3e5a5a2ca95245a3"
    assert simhash("Café crème, Straße — naïve façade µ ² x_y") == "00098016a1060235"
    assert simhash("один два три — Café") == "5d80870040080840"
    assert simhash("a") == "40f89e395b66422f" and simhash("a b") == "4359ae2b086d5066"


def test_latin1_words_are_the_regular_expressions() -> None:
    for value in range(256):
        assert _LATIN1_WORDS[value] == (value if re.fullmatch(r"\w", chr(value)) else 0x20)
    rng = random.Random(3)
    alphabet = [chr(n) for n in range(256)] + ["İ", "ß", "µ", "\u200b", "ǅ", "Ω", "\u2014"]
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        words = [w.decode("latin-1") if isinstance(w, bytes) else w for w in _words(text)]
        assert words == re.findall(r"\w+", text.casefold())
    # the same words by either path give the same value: an em dash (not Latin-1) is a separator like a space
    assert simhash("déjà vu \u2014 encore une fois") == simhash("déjà vu - encore une fois")


def _reference(text: str) -> str:
    """SimHash written plainly: BLAKE2b-64 word hashes, shingles XORed with rotations 42 and 21, majority bits."""

    def word_hash(word: str) -> int:
        return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big")

    def rotate(value: int, bits: int) -> int:
        return ((value << bits) | (value >> (64 - bits))) & ((1 << 64) - 1)

    words = re.findall(r"\w+", text.casefold())
    if not words:
        return "0" * 16
    hashes = [word_hash(word) for word in words]
    if len(hashes) == 1:
        features = {hashes[0]}
    elif len(hashes) == 2:
        features = {rotate(hashes[0], 21) ^ hashes[1]}
    else:
        shingles = zip(hashes, hashes[1:], hashes[2:], strict=False)
        features = {rotate(a, 42) ^ rotate(b, 21) ^ c for a, b, c in shingles}
    result = 0
    for bit in range(64):
        if sum((feature >> bit) & 1 for feature in features) > len(features) / 2:
            result |= 1 << bit
    return f"{result:016x}"


def test_equals_a_plain_reference() -> None:
    rng = random.Random(5)
    vocabulary = ["vendor", "Escrow", "déjà", "straße", "x_1", "42", "один", "—", "!!", "naïve"]
    for size in [0, 1, 2, 3, 4, 7, 50, 400]:
        for _ in range(5):
            text = " ".join(rng.choice(vocabulary) for _ in range(size))
            assert simhash(text) == _reference(text), text
