"""Classification of one candidate token as an address of a known chain, by format and checksum.

Offers :func:`classify_token`, which tries the formats a token's shape allows (Ethereum hex, SegWit and Zcash
Bech32/Bech32m, CashAddr, Base58Check version bytes, Monero, Solana) and returns the first that validates. Mainnet
only: testnet and regtest encodings are valid strings but not reported.
"""

from __future__ import annotations

from typing import NamedTuple

from .base58 import ALPHABET, b58decode, b58decode_check
from .bech32 import Encoding, bech32_decode, convert_bits, decode_segwit
from .cashaddr import cashaddr_decode
from .ethereum import classify_eth
from .monero import LENGTHS as MONERO_LENGTHS
from .monero import classify_monero
from .zcash import unified_payload_ok

CASHADDR_PREFIX = "bitcoincash"


class Classified(NamedTuple):
    """What a token validated as; ``address`` is the canonical spelling (see :class:`CryptoAddress`)."""

    currency: str
    address: str
    kind: str
    ambiguous_with: tuple[str, ...] = ()
    checksum: str = "verified"


# Base58Check version bytes of 25-byte (1 + 20 + 4) addresses -> (currency, kind, ambiguous_with).
_VERSION_1 = {
    0x00: ("BTC", "p2pkh", ()),
    # Litecoin's legacy P2SH used version 5 before its own 0x32 ("M"); both chains accept these strings.
    0x05: ("BTC", "p2sh", ("LTC",)),
    0x30: ("LTC", "p2pkh", ()),
    0x32: ("LTC", "p2sh", ()),
    # DigiByte, PIVX and Verge P2PKH also use version 30: the same string is valid on all four.
    0x1E: ("DOGE", "p2pkh", ("DGB", "PIVX", "XVG")),
    0x16: ("DOGE", "p2sh", ()),
    0x4C: ("DASH", "p2pkh", ()),
    0x10: ("DASH", "p2sh", ()),
    0x41: ("TRX", "tron", ()),
}
# Zcash transparent addresses have 2-byte versions (2 + 20 + 4 bytes).
_VERSION_2 = {
    b"\x1c\xb8": ("ZEC", "zcash_transparent_p2pkh", ()),
    b"\x1c\xbd": ("ZEC", "zcash_transparent_p2sh", ()),
}
# The first characters those versions allow (checked in the tests against every 25/26-byte value): a token starting
# otherwise is no Base58Check address and skips the decoding.
BASE58CHECK_HEADS = frozenset("1379ADLMTXt")
SOLANA_LENGTHS = range(32, 45)
_SEGWIT_HRPS = {"bc": "BTC", "ltc": "LTC"}
_CASHADDR_KINDS = {0: "cashaddr_p2pkh", 1: "cashaddr_p2sh", 2: "cashaddr_token_p2pkh", 3: "cashaddr_token_p2sh"}
_CASHADDR_CHARS = frozenset("qpzry9x8gf2tvdw0s3jn54khce6mua7lQPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")
_BASE58_CHARS = frozenset(ALPHABET)
_SAPLING_BYTES = 43
_TEX_BYTES = 20
_UNIFIED_MIN_BYTES = 48
# No address is longer: Zcash Unified Addresses with every receiver type stay well under it. Longer runs (Base64
# blobs without "+" or "/") are dismissed before any decoding work.
MAX_TOKEN = 400


def _segwit_kind(version: int, program: bytes) -> str:
    if version == 0:
        return "p2wpkh" if len(program) == 20 else "p2wsh"
    if version == 1 and len(program) == 32:
        return "p2tr"
    return "segwit_v1+"


def _classify_bech32(token: str) -> Classified | None:
    lowered = token.lower()
    hrp = lowered[: lowered.rfind("1")]
    currency = _SEGWIT_HRPS.get(hrp)
    if currency is not None:
        segwit = decode_segwit(hrp, token)
        if segwit is None:
            return None
        return Classified(currency, lowered, _segwit_kind(*segwit))
    if hrp not in ("zs", "tex", "u"):
        return None
    decoded = bech32_decode(token, max_length=None)
    if decoded is None:
        return None
    _, data, encoding = decoded
    payload = convert_bits(data, 5, 8, pad=False)
    if not isinstance(payload, bytes):
        return None
    if hrp == "zs" and encoding is Encoding.BECH32 and len(payload) == _SAPLING_BYTES:
        return Classified("ZEC", lowered, "zcash_sapling")
    if hrp == "tex" and encoding is Encoding.BECH32M and len(payload) == _TEX_BYTES:
        return Classified("ZEC", lowered, "zcash_tex")
    if (
        hrp == "u"
        and encoding is Encoding.BECH32M
        and len(payload) >= _UNIFIED_MIN_BYTES
        and unified_payload_ok(hrp, payload)
    ):
        return Classified("ZEC", lowered, "zcash_unified")
    return None


def _classify_cashaddr(token: str, prefix: str | None) -> Classified | None:
    if prefix is None:
        prefix = CASHADDR_PREFIX.upper() if token.upper() == token else CASHADDR_PREFIX
    elif prefix.lower() != CASHADDR_PREFIX:
        return None
    decoded = cashaddr_decode(prefix, token)
    if decoded is None:
        return None
    kind = _CASHADDR_KINDS.get(decoded[0])
    if kind is None:
        return None
    return Classified("BCH", f"{CASHADDR_PREFIX}:{token.lower()}", kind)


def _classify_base58check(token: str) -> Classified | None:
    if token[0] not in BASE58CHECK_HEADS:
        return None
    body = b58decode_check(token)
    if body is None:
        return None
    entry: tuple[str, str, tuple[str, ...]] | None = None
    if len(body) == 21:
        entry = _VERSION_1.get(body[0])
    elif len(body) == 22:
        entry = _VERSION_2.get(body[:2])
    if entry is None:
        return None
    return Classified(entry[0], token, entry[1], entry[2])


def classify_token(token: str, prefix: str | None = None, *, solana: bool = True) -> Classified | None:
    """Classify ``token`` (an ASCII alphanumeric run, the whole candidate) as an address, or return ``None``.

    ``prefix`` is the word written directly before the token and a colon, if any: ``bitcoincash`` makes a CashAddr
    checksum cover it as written; any other word (``ecash:``, ``bchtest:``, ``bcash:``, a label glued to the
    colon) means the token is not a Bitcoin Cash mainnet CashAddr, as the spec reads a written prefix as the
    network. ``solana`` allows the checksum-less Solana reading (32-byte Base58), which a
    caller only wants when something else says the string is a Solana address.
    """
    n = len(token)
    if n > MAX_TOKEN:
        return None
    if n == 42 and token.startswith("0x"):
        kind = classify_eth(token)
        return Classified("ETH", token, kind, (), "verified" if kind == "eip55" else "none") if kind else None
    head = token[:4].lower()
    if head.startswith(("bc1", "zs1", "u1")) or head in ("ltc1", "tex1"):
        # A token that names a Bech32 network and fails it is a corrupted address of that network, never a
        # checksum-less Solana key that happens to share the shape.
        found = _classify_bech32(token)
        if found is not None or not head.startswith("u1"):
            return found
    if head[0] in "qpzr" and 42 <= n <= 112 and _CASHADDR_CHARS.issuperset(token):
        found = _classify_cashaddr(token, prefix)
        if found is not None:
            return found
    if not _BASE58_CHARS.issuperset(token):
        return None
    if 25 <= n <= 36:
        found = _classify_base58check(token)
        if found is not None and found.currency == "BTC" and prefix and prefix.lower() == CASHADDR_PREFIX:
            # A legacy-format address in a bitcoincash: link is a Bitcoin Cash one (same encoding since the fork).
            return found._replace(currency="BCH", ambiguous_with=("BTC", *found.ambiguous_with))
        if found is not None:
            return found
    if n in MONERO_LENGTHS:
        kind = classify_monero(token)
        if kind is not None:
            return Classified("XMR", token, kind)
    if solana and n in SOLANA_LENGTHS:
        raw = b58decode(token)
        if raw is not None and len(raw) == 32:
            return Classified("SOL", token, "solana", (), "none")
    return None
