"""Pure signal extraction: text or HTML in, typed signals out. No Scrapy import anywhere in this package.

The JSON contract and the watch-list and vendor-rule formats are in docs/signals.md. Public API:

* :func:`extract_signals` (page -> :class:`Signals`, ``.to_dict()`` is the JSON object), :class:`ExtractionConfig`
  (watch lists, vendor rules, language sample; build once), :func:`default_config`;
* the stages, usable on their own: :func:`parse_document`, :func:`detect_language`, :func:`find_crypto_addresses`,
  :func:`find_onions`, :func:`find_pgp_keys`,
  :func:`find_contacts`, :func:`find_vendors`, :func:`load_vendor_rules`, :func:`load_watchlists`,
  :func:`simhash`, :func:`hamming`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .simhash import hamming, simhash  # light; imported now so that the name is the function, not the submodule

if TYPE_CHECKING:
    from .contacts import Contacts, find_contacts, is_session_id, is_valid_tox_id
    from .crypto import CryptoAddress, find_crypto_addresses
    from .keywords import Watchlist, load_watchlists
    from .language import detect_language
    from .onion import find_onions
    from .pgp import PgpKey, find_pgp_keys
    from .signals import SIGNAL_KEYS, ExtractionConfig, Signals, default_config, extract_signals
    from .text import ParsedDocument, parse_document
    from .vendors import VendorRules, find_vendors, load_vendor_rules

# Imported on first use (PEP 562), so that `from pipelines.extract.simhash import ...` (the crawler's watches and
# clones) does not load the parser, langdetect and the crypto tables: 0.2 s off every darkcrawl command's start.
_HOMES = {
    "Contacts": "contacts", "find_contacts": "contacts", "is_session_id": "contacts", "is_valid_tox_id": "contacts",
    "CryptoAddress": "crypto", "find_crypto_addresses": "crypto",
    "Watchlist": "keywords", "load_watchlists": "keywords",
    "detect_language": "language",
    "find_onions": "onion",
    "PgpKey": "pgp", "find_pgp_keys": "pgp",
    "SIGNAL_KEYS": "signals", "ExtractionConfig": "signals", "Signals": "signals", "default_config": "signals",
    "extract_signals": "signals",
    "ParsedDocument": "text", "parse_document": "text",
    "VendorRules": "vendors", "find_vendors": "vendors", "load_vendor_rules": "vendors",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "SIGNAL_KEYS",
    "Contacts",
    "CryptoAddress",
    "ExtractionConfig",
    "ParsedDocument",
    "PgpKey",
    "Signals",
    "VendorRules",
    "Watchlist",
    "default_config",
    "detect_language",
    "extract_signals",
    "find_contacts",
    "find_crypto_addresses",
    "find_onions",
    "find_pgp_keys",
    "find_vendors",
    "hamming",
    "is_session_id",
    "is_valid_tox_id",
    "load_vendor_rules",
    "load_watchlists",
    "parse_document",
    "simhash",
]
