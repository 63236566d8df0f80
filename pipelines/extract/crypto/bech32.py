"""Bech32 (BIP-173) and Bech32m (BIP-350) decoding, and SegWit address decoding on top of them.

Offers :func:`bech32_decode` (the encoding layer: returns hrp, 5-bit data and which checksum constant matched),
:func:`convert_bits` (regroup 5-bit words into bytes with the padding rules) and :func:`decode_segwit` (witness
version + program for a given hrp, with BIP-141/BIP-350 length and variant rules). Written here because the PyPI
``bech32`` 1.2.0 predates BIP-350 (it rejects valid taproot and accepts invalid v1+ addresses). Nothing raises.
"""

from __future__ import annotations

from enum import Enum

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX: dict[str, int] = {ch: i for i, ch in enumerate(CHARSET)}
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
BIP173_MAX_LENGTH = 90


class Encoding(Enum):
    """Which checksum constant a string carries: BIP-173 Bech32 or BIP-350 Bech32m."""

    BECH32 = "bech32"
    BECH32M = "bech32m"


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _GENERATORS[i]
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(ch) >> 5 for ch in hrp] + [0] + [ord(ch) & 31 for ch in hrp]


def bech32_decode(text: str, max_length: int | None = BIP173_MAX_LENGTH) -> tuple[str, list[int], Encoding] | None:
    """Decode a Bech32 or Bech32m string.

    ``max_length`` is BIP-173's 90-character limit; pass ``None`` for formats that lift it (Zcash Sapling and
    Unified addresses). Returns ``(hrp, data_without_checksum, encoding)`` with the hrp lowercased, or ``None`` for
    mixed case, a character outside 33-126 or the charset, a missing/empty hrp, a checksum shorter than 6, or a
    checksum matching neither constant.
    """
    if max_length is not None and len(text) > max_length:
        return None
    if any(ord(ch) < 33 or ord(ch) > 126 for ch in text):
        return None
    lowered = text.lower()
    if lowered != text and text.upper() != text:
        return None
    pos = lowered.rfind("1")
    if pos < 1 or pos + 7 > len(lowered):
        return None
    hrp = lowered[:pos]
    try:
        data = [_CHARSET_INDEX[ch] for ch in lowered[pos + 1 :]]
    except KeyError:
        return None
    const = _polymod(_hrp_expand(hrp) + data)
    if const == _BECH32_CONST:
        encoding = Encoding.BECH32
    elif const == _BECH32M_CONST:
        encoding = Encoding.BECH32M
    else:
        return None
    return hrp, data[:-6], encoding


def convert_bits(data: list[int], from_bits: int, to_bits: int, pad: bool) -> bytes | list[int] | None:
    """Regroup ``from_bits``-bit words into ``to_bits``-bit words (BIP-173 reference semantics).

    With ``pad`` the last group is zero-padded; without it, leftover bits must be fewer than ``from_bits`` and all
    zero. Returns ``bytes`` when ``to_bits`` is 8, else a list of ints; ``None`` if a word is out of range or the
    padding is invalid.
    """
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            return None
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        return None
    return bytes(out) if to_bits == 8 else out


def decode_segwit(hrp: str, text: str) -> tuple[int, bytes] | None:
    """Decode a SegWit address for network ``hrp`` (``"bc"``, ``"ltc"``).

    Returns ``(witness_version, program)``, or ``None`` if the hrp differs, the checksum variant does not fit the
    version (v0 needs Bech32, v1+ Bech32m), the version exceeds 16, the program is not 2-40 bytes, or a v0 program
    is not 20 or 32 bytes.
    """
    decoded = bech32_decode(text)
    if decoded is None:
        return None
    got_hrp, data, encoding = decoded
    if got_hrp != hrp or not data:
        return None
    version = data[0]
    if version > 16:
        return None
    if (version == 0) != (encoding is Encoding.BECH32):
        return None
    program = convert_bits(data[1:], 5, 8, pad=False)
    if not isinstance(program, bytes) or not 2 <= len(program) <= 40:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    return version, program
