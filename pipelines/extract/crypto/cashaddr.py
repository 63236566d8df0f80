"""CashAddr (Bitcoin Cash address format, spec v1.1) decoding.

Offers :func:`cashaddr_decode`: prefix + 5-bit payload with a 40-bit BCH-code checksum that covers the prefix even
when the prefix is not written. Returns the address type and hash; nothing raises.
"""

from __future__ import annotations

from .bech32 import CHARSET, convert_bits

_CHARSET_INDEX: dict[str, int] = {ch: i for i, ch in enumerate(CHARSET)}
_GENERATORS = (0x98F2BC8E61, 0x79B76D99E2, 0xF33E5FB3C4, 0xAE2EABE2A8, 0x1E4F43E470)
_CHECKSUM_CHARS = 8
# Hash size in bytes for the 3-bit size code of the version byte.
_HASH_SIZES = (20, 24, 28, 32, 40, 48, 56, 64)


def _polymod(values: list[int]) -> int:
    c = 1
    for value in values:
        c0 = c >> 35
        c = ((c & 0x07FFFFFFFF) << 5) ^ value
        for i in range(5):
            if (c0 >> i) & 1:
                c ^= _GENERATORS[i]
    return c ^ 1


def cashaddr_decode(prefix: str, payload: str) -> tuple[int, bytes] | None:
    """Verify and decode a CashAddr ``payload`` under network ``prefix`` (``"bitcoincash"`` when not written).

    ``prefix`` and ``payload`` must together be single-case, the prefix letters only. Returns ``(type, hash)``
    (type 0 = P2PKH, 1 = P2SH, 2/3 = their CashTokens-aware forms), or ``None`` for mixed case, a character
    outside the charset, a bad checksum, bad padding, a reserved version bit or a hash length that disagrees with
    the version byte's size code.
    """
    whole = prefix + payload
    lowered = whole.lower()
    if lowered != whole and whole.upper() != whole:
        return None
    prefix = prefix.lower()
    if not prefix or not prefix.isascii() or not prefix.isalpha() or len(payload) <= _CHECKSUM_CHARS:
        return None
    try:
        data = [_CHARSET_INDEX[ch] for ch in payload.lower()]
    except KeyError:
        return None
    if _polymod([ord(ch) & 0x1F for ch in prefix] + [0] + data) != 0:
        return None
    raw = convert_bits(data[:-_CHECKSUM_CHARS], 5, 8, pad=False)
    if not isinstance(raw, bytes) or not raw:
        return None
    version, hash_bytes = raw[0], raw[1:]
    if version & 0x80:
        return None
    if len(hash_bytes) != _HASH_SIZES[version & 0x07]:
        return None
    return (version >> 3) & 0x0F, hash_bytes
