"""Monero addresses: netbyte + spend key + view key (+ payment id) + 4-byte Keccak-256 checksum, block Base58.

Offers :func:`classify_monero`, mainnet only: standard (netbyte 18, 95 chars, starts ``4``), subaddress (42,
95 chars, starts ``8``) and integrated (19, 106 chars, 8-byte payment id). Testnet/stagenet netbytes are not
reported.
"""

from __future__ import annotations

from .base58 import monero_b58decode
from .keccak import keccak256

# netbyte -> (kind, decoded length: netbyte + 32 + 32 [+ 8] + 4)
_MAINNET = {
    18: ("monero_standard", 69),
    42: ("monero_subaddress", 69),
    19: ("monero_integrated", 77),
}
LENGTHS = frozenset((95, 106))


def classify_monero(candidate: str) -> str | None:
    """Return the Monero address kind of ``candidate``, or ``None`` if it is not a valid mainnet address.

    Rejects wrong lengths, undecodable blocks (block overflow), other netbytes and checksum mismatches.
    """
    if len(candidate) not in LENGTHS:
        return None
    raw = monero_b58decode(candidate)
    if raw is None:
        return None
    entry = _MAINNET.get(raw[0])
    if entry is None or len(raw) != entry[1]:
        return None
    if keccak256(raw[:-4])[:4] != raw[-4:]:
        return None
    return entry[0]
