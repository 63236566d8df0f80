"""Ethereum (and any EVM chain) addresses: ``0x`` + 40 hex digits, with the EIP-55 mixed-case checksum.

Offers :func:`eip55_checksum` (the checksummed spelling of an address) and :func:`classify_eth` (``"eip55"``,
``"eth_unchecked"`` or ``None``).
"""

from __future__ import annotations

import re

from .keccak import keccak256

_SHAPE = re.compile(r"0x[0-9a-fA-F]{40}")


def eip55_checksum(address: str) -> str:
    """Return ``address`` (``0x`` + 40 hex) spelled per EIP-55: hex letter i uppercase iff hash nibble i >= 8.

    The hash is Keccak-256 of the lowercase hex digits as ASCII, without ``0x``.
    """
    digits = address[2:].lower()
    nibbles = keccak256(digits.encode("ascii")).hex()[:40]
    return "0x" + "".join(ch.upper() if h in "89abcdef" else ch for ch, h in zip(digits, nibbles, strict=True))


def classify_eth(candidate: str) -> str | None:
    """Classify an exact ``0x`` + 40-hex string.

    Returns ``"eip55"`` for a mixed-case string that matches its checksum, ``"eth_unchecked"`` for a single-case
    string (lower or upper: it carries no checksum), ``None`` for a wrong shape (``0X``, 39/41 digits) or a
    mixed-case string that fails EIP-55 (a typo).
    """
    if len(candidate) != 42 or not _SHAPE.fullmatch(candidate):
        return None
    digits = candidate[2:]
    if digits == digits.lower() or digits == digits.upper():
        return "eth_unchecked"
    return "eip55" if eip55_checksum(candidate) == candidate else None
