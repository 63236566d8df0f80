"""Checksum-validated cryptocurrency address extraction (issue 4). Pure functions, no Scrapy import.

Public API: :func:`find_crypto_addresses` (text -> list of :class:`CryptoAddress`), :func:`validate_address`
(one string -> :class:`CryptoAddress` or ``None``). Chains: Bitcoin (Base58Check, Bech32/Bech32m), Litecoin,
Dogecoin, Dash, Bitcoin Cash (CashAddr), Monero, Ethereum (EIP-55), Tron, Zcash (transparent, Sapling, TEX,
Unified) and Solana (no checksum: context-gated). The encodings live in their own modules: :mod:`.base58`,
:mod:`.bech32`, :mod:`.cashaddr`, :mod:`.ethereum`, :mod:`.monero`, :mod:`.zcash`; :mod:`.chains` maps a token to
a chain, :mod:`.finder` scans text.
"""

from __future__ import annotations

from .address import CryptoAddress
from .finder import find_crypto_addresses, validate_address

__all__ = ["CryptoAddress", "find_crypto_addresses", "validate_address"]
