"""The Bloom filter's sizing and its false-positive rate, measured on synthetic URL sets (no Redis needed)."""

from __future__ import annotations

import hashlib
import math

import pytest

from crawler.frontier.bloom import MAX_BITS, BloomParams, LocalBloom, positions


def url_fp(prefix: str, number: int) -> bytes:
    return hashlib.sha1(f"http://{prefix}{number % 997}.onion/item/{number}".encode()).digest()


def test_size_follows_the_formula():
    params = BloomParams.for_capacity(1_000_000, 1e-6)
    assert params.bits == math.ceil(-1_000_000 * math.log(1e-6) / math.log(2) ** 2)
    assert params.hashes == 20
    assert 28.7 < params.bits_per_item < 28.8
    assert 3.4 * 2**20 < params.bytes < 3.45 * 2**20  # "3.4 MiB per million URLs" in the docs


@pytest.mark.parametrize("capacity, rate", [(0, 0.01), (10, 0.0), (10, 1.0), (10**12, 1e-9)])
def test_bad_sizes_are_refused(capacity, rate):
    with pytest.raises(ValueError):
        BloomParams.for_capacity(capacity, rate)


def test_a_filter_fits_one_redis_string():
    assert BloomParams.for_capacity(100_000_000, 1e-6).bits <= MAX_BITS


def test_positions_are_stable_distinct_and_in_range():
    params = BloomParams.for_capacity(1000, 1e-4)
    first = positions(b"fingerprint", params)
    assert first == positions(b"fingerprint", params)
    assert len(first) == params.hashes
    assert all(0 <= p < params.bits for p in first)
    assert first != positions(b"fingerprint2", params)


@pytest.mark.parametrize("rate", [0.01, 0.001])
def test_measured_false_positive_rate_stays_at_the_target(rate):
    capacity = 50_000
    bloom = LocalBloom(BloomParams.for_capacity(capacity, rate))
    for number in range(capacity):
        assert not bloom.add(url_fp("seen", number)) or number > 0  # the very first add cannot be a hit
    assert all(url_fp("seen", number) in bloom for number in range(0, capacity, 7)), "a Bloom filter never forgets"
    probes = 200_000
    false_positives = sum(url_fp("fresh", number) in bloom for number in range(probes))
    measured = false_positives / probes
    # expected value is `rate`; 200k probes give a standard deviation of about sqrt(rate/probes)
    assert measured <= rate * 1.3, (measured, rate)
    assert measured >= rate * 0.5, (measured, rate)  # and the formula is not wildly pessimistic either


def test_expected_rate_rises_beyond_capacity():
    params = BloomParams.for_capacity(1000, 0.01)
    assert params.expected_error_rate(1000) == pytest.approx(0.01, rel=0.1)
    assert params.expected_error_rate(2000) > 0.1
