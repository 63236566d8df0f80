"""SimHash: stable, near-duplicates close, unrelated pages far."""

from __future__ import annotations

import random

from pipelines.extract.simhash import hamming, simhash


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
