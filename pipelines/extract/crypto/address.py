"""The :class:`CryptoAddress` record that the crypto extractor returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CryptoAddress:
    """One cryptocurrency address found in text, with what it was validated as.

    ``currency`` is the best single code (``"BTC"``, ``"XMR"``...); ``ambiguous_with`` lists other currencies the
    same string is equally valid for (a ``3...`` P2SH address is BTC or legacy LTC). ``checksum`` is
    ``"verified"`` when the string carries a checksum that held, ``"none"`` when the format has none (Solana) or
    this spelling omits it (single-case Ethereum).
    """

    currency: str
    address: str
    kind: str
    context: str
    ambiguous_with: tuple[str, ...] = ()
    checksum: str = "verified"

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``ambiguous_with`` as a list) for indexing."""
        return {
            "currency": self.currency,
            "address": self.address,
            "kind": self.kind,
            "context": self.context,
            "ambiguous_with": list(self.ambiguous_with),
            "checksum": self.checksum,
        }
