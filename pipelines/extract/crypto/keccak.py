"""Keccak-256 as Ethereum and Monero use it: the original Keccak padding, not NIST SHA3-256.

Offers :func:`keccak256`. ``hashlib.sha3_256`` differs (different padding byte) and would fail every EIP-55 and
Monero checksum; pycryptodome's ``Crypto.Hash.keccak`` implements the original. It is imported on the first
checksum (its native loader takes about 20 ms: most pages hold no Ethereum or Monero address).
"""

from __future__ import annotations


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte original Keccak-256 digest of ``data``."""
    from Crypto.Hash import keccak

    return keccak.new(digest_bits=256, data=data).digest()
