"""From a page document to its entities (the signal values an investigator pivots on), and how a value is normalised.

Pure functions, shared by the indexing stage, ``darkcrawl pivot`` and the tests, so that a value typed by an analyst
finds the entity the crawl wrote. The kinds and their normalisation are documented in docs/schema.md (Entities).

Offers :class:`Entity`, :func:`page_entities`, :func:`normalise`, :func:`candidates` (every (kind, value) a typed
value may be), :func:`typed_value` (quotes, ``mailto:`` and handle links unwrapped), :func:`key_id`,
:func:`sighting_id` and :func:`sighting_document`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from crawler.es.schema import entity_id
from crawler.es.templates import SCHEMA_VERSION
from crawler.identity import normalise_onion

CRYPTO = "crypto_address"
PGP = "pgp_fingerprint"
EMAIL = "email"
HANDLE = "handle"
VENDOR = "vendor"
ONION = "onion"
ENTITY_KINDS = (CRYPTO, PGP, EMAIL, HANDLE, VENDOR, ONION)

# The handle networks extraction reports (pipelines/extract/contacts.py); tox ids are upper-case hex, the rest lower.
HANDLE_NETWORKS = ("xmpp", "telegram", "session", "tox", "wickr", "threema", "signal", "whatsapp", "phone")
_UPPER_NETWORKS = frozenset({"tox", "threema"})
_FINGERPRINT = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Entity:
    """One signal value: its kind, normalised value, the spelling seen (``label``) and kind-specific attributes."""

    kind: str
    value: str
    label: str = ""
    attributes: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def id(self) -> str:
        return entity_id(self.kind, self.value)


def _crypto_value(address: str) -> str:
    """Ethereum addresses are case-insensitive (the case is only a checksum): lower-case them. Bech32 and CashAddr
    are lower-cased by extraction already; Base58 and Monero are case-sensitive and stay as written."""
    return address.lower() if address[:2] in ("0x", "0X") else address


def normalise(kind: str, raw: str) -> str | None:
    """The entity value of *raw* for *kind*, or ``None`` when *raw* cannot be one (for a typed value: see
    :func:`candidates`)."""
    text = raw.strip()
    if not text:
        return None
    if kind == CRYPTO:
        from pipelines.extract.crypto import validate_address

        found = validate_address(text)
        return _crypto_value(found.address) if found else None
    if kind == PGP:
        compact = _SPACES.sub("", text).upper().removeprefix("0X")
        return compact if _FINGERPRINT.fullmatch(compact) else None
    if kind == EMAIL:
        lowered = text.lower()
        return lowered if "@" in lowered.strip("@") and " " not in lowered else None
    if kind == HANDLE:
        network, _, handle = text.partition(":")
        network = network.strip().lower()
        handle = handle.strip().lstrip("@")
        if network not in HANDLE_NETWORKS or not handle:
            return None
        return f"{network}:{handle.upper() if network in _UPPER_NETWORKS else handle.lower()}"
    if kind == VENDOR:
        return " ".join(text.split()).casefold()
    if kind == ONION:
        return normalise_onion(text.lower().removeprefix("http://").removeprefix("https://").split("/", 1)[0])
    return None


# Quotes an analyst may put around a vendor name or any value ("Night Owl", 'Night Owl', “Night Owl”, «Night Owl»).
_QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019", "\u00ab": "\u00bb", "\u201e": "\u201c"}
# Links that name a handle: t.me/name, telegram.me/name, xmpp:/jabber: URIs (the spellings extraction reads).
_HANDLE_LINKS = (
    (re.compile(r"(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/(?:s/)?@?(\w{4,64})/?", re.I | re.A), "telegram"),
    (re.compile(r"(?:xmpp|jabber):([^\s?/@]+@[^\s?/@]+)(?:\?.*)?", re.I), "xmpp"),
)
_KEY_ID = re.compile(r"[0-9A-F]{16}|[0-9A-F]{8}")


def unquote(raw: str) -> str:
    """*raw* without one pair of surrounding quotes and the white space around it."""
    text = raw.strip()
    if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def typed_value(raw: str) -> str:
    """What an analyst typed, reduced to the value: quotes dropped, ``mailto:`` and handle links unwrapped
    (``t.me/name`` -> ``telegram:name``, ``xmpp:a@b`` -> ``xmpp:a@b``)."""
    text = unquote(raw)
    if text[:7].lower() == "mailto:":
        return text[7:].partition("?")[0].strip()
    for pattern, network in _HANDLE_LINKS:
        link = pattern.fullmatch(text)
        if link:
            return f"{network}:{link.group(1)}"
    return text


def key_id(raw: str) -> str | None:
    """The PGP key id *raw* spells (8 or 16 hex digits, ``0x`` and spaces allowed), upper case, or ``None``. A key id
    is not an entity of its own: the caller looks up the fingerprints it belongs to (:mod:`crawler.pivot`)."""
    compact = _SPACES.sub("", unquote(raw)).upper().removeprefix("0X")
    return compact if _KEY_ID.fullmatch(compact) else None


def candidates(raw: str) -> list[tuple[str, str]]:
    """Every (kind, value) a value typed by an analyst may stand for, most specific first: an address, a
    fingerprint (spaces allowed), an onion, an e-mail (``mailto:`` too), a handle on any network (``network:handle``
    or a ``t.me/`` link picks one), a vendor name (quoted or not). The caller looks them all up; ids that exist say
    which it was. Key ids need the index (:func:`key_id`)."""
    raw = typed_value(raw)
    found: list[tuple[str, str]] = []
    for kind in (CRYPTO, PGP, ONION, EMAIL):
        value = normalise(kind, raw)
        if value:
            found.append((kind, value))
    text = raw.strip()
    network = text.partition(":")[0].strip().lower()
    if network in HANDLE_NETWORKS:
        value = normalise(HANDLE, text)
        if value:
            found.append((HANDLE, value))
    elif text and " " not in text:
        for name in HANDLE_NETWORKS:
            value = normalise(HANDLE, f"{name}:{text}")
            if value:
                found.append((HANDLE, value))
    vendor = normalise(VENDOR, raw)
    if vendor:
        found.append((VENDOR, vendor))
    return found


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "", [], ())}


def page_entities(document: dict[str, Any]) -> list[Entity]:
    """The entities a page document shows, each once, from its ``signals`` (docs/signals.md)."""
    signals = document.get("signals") or {}
    own_site = str(document.get("site") or "").lower()
    found: dict[tuple[str, str], Entity] = {}

    def add(kind: str, value: str | None, label: str, attributes: dict[str, Any] | None = None) -> None:
        if value and (kind, value) not in found:
            found[(kind, value)] = Entity(kind, value, label, _drop_empty(attributes or {}))

    for address in signals.get("crypto_addresses") or []:
        written = str(address.get("address") or "")
        if written:
            add(CRYPTO, _crypto_value(written), written, {
                "currency": address.get("currency"),
                "address_type": address.get("kind"),
                "ambiguous_with": address.get("ambiguous_with"),
            })
    for key in signals.get("pgp_keys") or []:
        fingerprint = normalise(PGP, str(key.get("fingerprint") or ""))
        add(PGP, fingerprint, fingerprint or "", {
            name: key.get(name) for name in ("key_id", "algorithm", "bits", "version", "created", "uids")
        })
    for email in signals.get("emails") or []:
        add(EMAIL, normalise(EMAIL, str(email)), str(email))
    for handle in signals.get("handles") or []:
        network, name = str(handle.get("network") or ""), str(handle.get("handle") or "")
        if network and name:
            add(HANDLE, f"{network}:{name}", name, {"network": network, "handle": name})
    for vendor in signals.get("vendors") or []:
        name = str(vendor.get("name") or "")
        add(VENDOR, normalise(VENDOR, name), " ".join(name.split()), {"source": vendor.get("source")})
    for onion in signals.get("onions") or []:
        host = normalise(ONION, str(onion))
        if host and host != own_site:
            add(ONION, host, host)
    return list(found.values())


def sighting_id(entity: str, page: str) -> str:
    """The id of the sighting of entity id *entity* on the page with id *page*: SHA-256 of both, NUL-separated."""
    return hashlib.sha256(f"{entity}\0{page}".encode()).hexdigest()


def sighting_document(entity: Entity, page: dict[str, Any], seen: str) -> dict[str, Any]:
    """The sighting fields a fetch of *page* (a page document) writes; ``first_seen`` is added by the upsert only."""
    return {
        "entity_id": entity.id,
        "kind": entity.kind,
        "value": entity.value,
        "url": page.get("url"),
        "site": page.get("site"),
        "crawl_id": page.get("crawl_id"),
        "last_seen": seen,
        "schema_version": SCHEMA_VERSION,
    }
