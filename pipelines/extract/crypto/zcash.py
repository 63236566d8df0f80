"""Zcash Unified Address payload check (ZIP-316): undo F4Jumble and verify the HRP padding.

Offers :func:`unified_payload_ok`. A Unified Address is Bech32m without the 90-character limit over
F4Jumble(items || 16-byte padding of the HRP); after the Bech32m checksum, the padding is a further 128-bit check
that the string is a real Unified Address and not a random Bech32m string with hrp ``u``.
"""

from __future__ import annotations

import hashlib

_PAD_BYTES = 16
_MAX_HASH = 64


def _h(i: int, data: bytes, size: int) -> bytes:
    return hashlib.blake2b(data, digest_size=size, person=b"UA_F4Jumble_H" + bytes((i, 0, 0))).digest()


def _g(i: int, data: bytes, size: int) -> bytes:
    out = bytearray()
    j = 0
    while len(out) < size:
        person = b"UA_F4Jumble_G" + bytes((i,)) + j.to_bytes(2, "little")
        out += hashlib.blake2b(data, digest_size=_MAX_HASH, person=person).digest()
        j += 1
    return bytes(out[:size])


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def f4jumble_inverse(message: bytes) -> bytes:
    """Return F4Jumble⁻¹(``message``) per ZIP-316 (``message`` must be at least 48 bytes)."""
    left = min(_MAX_HASH, len(message) // 2)
    right = len(message) - left
    c, d = message[:left], message[left:]
    y = _xor(c, _h(1, d, left))
    x = _xor(d, _g(1, y, right))
    a = _xor(y, _h(0, x, left))
    b = _xor(x, _g(0, a, right))
    return a + b


def unified_payload_ok(hrp: str, payload: bytes) -> bool:
    """Return whether ``payload`` (Bech32m data as bytes) un-jumbles to items ending in ``hrp``'s padding."""
    if len(payload) < 48:
        return False
    padding = hrp.encode("ascii").ljust(_PAD_BYTES, b"\x00")
    return f4jumble_inverse(payload).endswith(padding)
