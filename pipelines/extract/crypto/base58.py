"""Base58 decoding: Bitcoin's whole-string Base58 and Base58Check, and Monero's block Base58.

Offers :func:`b58decode` (plain, Solana), :func:`b58decode_check` (version + payload + 4-byte double-SHA-256
checksum: Bitcoin, Litecoin, Dogecoin, Dash, Tron, Zcash transparent) and :func:`monero_b58decode` (8-byte blocks
encoded as 11 characters each). All return ``None`` for anything that is not a well-formed encoding; none raises.
"""

from __future__ import annotations

import hashlib

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX: dict[str, int] = {ch: i for i, ch in enumerate(ALPHABET)}

# Monero: characters per full 8-byte block, and the length of a final partial block of n bytes -> its char count.
_MONERO_FULL_BLOCK_CHARS = 11
_MONERO_BLOCK_BYTES_BY_CHARS = {0: 0, 2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}


def b58decode(text: str) -> bytes | None:
    """Decode Bitcoin-alphabet Base58 over the whole string (leading ``1`` = zero byte).

    Returns the bytes, or ``None`` if the string is empty or holds a character outside the alphabet.
    """
    if not text:
        return None
    value = 0
    index = _INDEX
    try:
        for ch in text:
            value = value * 58 + index[ch]
    except KeyError:
        return None
    zeros = len(text) - len(text.lstrip("1"))
    body = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return b"\x00" * zeros + body


def b58decode_check(text: str) -> bytes | None:
    """Decode Base58Check: returns version + payload (checksum removed) if the double-SHA-256 checksum holds.

    Returns ``None`` for a bad character, a string too short to hold a checksum, or a checksum mismatch.
    """
    raw = b58decode(text)
    if raw is None or len(raw) < 5:
        return None
    body, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4] != checksum:
        return None
    return body


def monero_b58decode(text: str) -> bytes | None:
    """Decode Monero's block Base58: every 11 characters give 8 bytes, a shorter final group gives fewer.

    Returns ``None`` for a bad character, an impossible final-group length, or a group whose value overflows its
    byte count (Monero rejects those; a naive decoder would silently wrap).
    """
    out = bytearray()
    index = _INDEX
    for start in range(0, len(text), _MONERO_FULL_BLOCK_CHARS):
        group = text[start : start + _MONERO_FULL_BLOCK_CHARS]
        size = _MONERO_BLOCK_BYTES_BY_CHARS.get(len(group))
        if not size:
            return None
        value = 0
        try:
            for ch in group:
                value = value * 58 + index[ch]
        except KeyError:
            return None
        if value >> (8 * size):
            return None
        out += value.to_bytes(size, "big")
    return bytes(out)
