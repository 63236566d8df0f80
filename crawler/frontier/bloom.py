"""Bloom filter arithmetic for the shared duplicate filter: size from (expected items, false-positive rate), and the
bit positions of one fingerprint.

Why a Bloom filter: scrapy-redis keeps every fingerprint in a Redis set, which grows without bound (about 100 bytes
per URL). A Bloom filter of *m* bits holds *n* URLs with false-positive rate *p* in ``m = -n ln p / (ln 2)^2`` bits,
fixed in advance: 28.8 bits (3.4 MiB per million URLs) at p = 1e-6. A false positive makes a never-seen URL look seen,
so it is not crawled: the rate is kept small and documented (docs/distributed.md).

The *k* positions come from one hash (double hashing, Kirsch and Mitzenmacher): ``h1 + i * h2 mod m`` with ``h1``,
``h2`` two 64-bit halves of the SHA-256 of the request fingerprint.

Offers: :class:`BloomParams`, :func:`positions`, :class:`LocalBloom` (a bytearray filter with the same positions, for
measurements and tests).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

MAX_BITS = 2**32  # one Redis string holds at most 512 MiB = 2^32 bits


@dataclass(frozen=True)
class BloomParams:
    """A filter's size: ``bits`` (m) and ``hashes`` (k), chosen for ``capacity`` items at ``error_rate``."""

    capacity: int
    error_rate: float
    bits: int
    hashes: int

    @classmethod
    def for_capacity(cls, capacity: int, error_rate: float) -> BloomParams:
        """The optimal m and k for *capacity* items at *error_rate*. Raises ValueError when out of range."""
        if capacity < 1:
            raise ValueError(f"Bloom filter capacity must be at least 1, got {capacity}")
        if not 0 < error_rate < 1:
            raise ValueError(f"Bloom filter error rate must be between 0 and 1, got {error_rate}")
        bits = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2)
        if bits > MAX_BITS:
            raise ValueError(
                f"a Bloom filter for {capacity} items at {error_rate} needs {bits} bits, more than one Redis string "
                f"holds (2^32): lower the capacity or raise the error rate"
            )
        hashes = max(1, round(bits / capacity * math.log(2)))
        return cls(capacity, error_rate, bits, hashes)

    @property
    def bytes(self) -> int:
        return (self.bits + 7) // 8

    @property
    def bits_per_item(self) -> float:
        return self.bits / self.capacity

    def expected_error_rate(self, items: int) -> float:
        """The false-positive rate after *items* insertions: ``(1 - e^(-k n / m))^k``."""
        return float((1 - math.exp(-self.hashes * items / self.bits)) ** self.hashes)


def positions(fingerprint: bytes, params: BloomParams) -> list[int]:
    """The *k* bit positions of *fingerprint* (any bytes, usually Scrapy's request fingerprint)."""
    digest = hashlib.sha256(fingerprint).digest()
    h1 = int.from_bytes(digest[:8], "big")
    h2 = int.from_bytes(digest[8:16], "big") | 1
    m = params.bits
    return [(h1 + i * h2) % m for i in range(params.hashes)]


class LocalBloom:
    """The same filter in a bytearray: to measure the false-positive rate without Redis, and in tests."""

    def __init__(self, params: BloomParams):
        self.params = params
        self.bitmap = bytearray(params.bytes)

    def add(self, fingerprint: bytes) -> bool:
        """Set the fingerprint's bits; return True when they were all set already (seen, or a false positive)."""
        seen = True
        for position in positions(fingerprint, self.params):
            byte, bit = divmod(position, 8)
            mask = 0x80 >> bit  # Redis SETBIT numbers bits from the most significant one
            if not self.bitmap[byte] & mask:
                seen = False
                self.bitmap[byte] |= mask
        return seen

    def __contains__(self, fingerprint: bytes) -> bool:
        for position in positions(fingerprint, self.params):
            byte, bit = divmod(position, 8)
            if not self.bitmap[byte] & (0x80 >> bit):
                return False
        return True
