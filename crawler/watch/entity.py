"""Entity watches: one signal value (a crypto address, a PGP fingerprint or key id, an e-mail, a handle, a vendor, an
onion), compared exactly with the signals a page document carries, never searched for in its text.

The value is read the way ``darkcrawl pivot`` reads it (:func:`crawler.pivot.pivot_ids`, every spelling pivot
accepts: a fingerprint with spaces, an address in any case where case does not matter, ``telegram:@name``), and the
page's values come from :func:`crawler.sink.entities.page_entities`, the same normalisation the entities index uses.
A PGP key id (8 or 16 hex digits) fires on the keys whose fingerprint it ends (v4) or, 16 digits, starts (v6).

Offers :func:`entity_spec` (typed value -> stored spec, or :class:`UsageError`) and :class:`EntityMatcher`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawler.errors import UsageError
from crawler.pivot import pivot_ids
from crawler.sink.entities import (
    CRYPTO,
    ENTITY_KINDS,
    HANDLE,
    HANDLE_NETWORKS,
    PGP,
    VENDOR,
    key_id,
    page_entities,
    typed_value,
)
from crawler.watch.context import address_context, context_around, page_text
from crawler.watch.model import ENTITY, Watch
from pipelines.extract.casing import lower_same_length

PGP_KEY_ID = "pgp_key_id"
WATCH_ENTITY_KINDS = (*ENTITY_KINDS, PGP_KEY_ID)
_SPECIFIC = frozenset(ENTITY_KINDS) - {HANDLE, VENDOR}  # kinds a value is not by accident (any word is a vendor)


def entity_spec(value: str, kind: str | None = None) -> dict[str, Any]:
    """The spec of an entity watch: ``{"entity_kind", "value"}`` with the value normalised. Without *kind*, the value
    must read one way only (an address, a fingerprint, an onion, an e-mail, ``network:handle``); a bare name may be
    a vendor or a handle on any network, so it needs *kind*. Raises :class:`UsageError` saying what to give."""
    if kind == PGP_KEY_ID or (kind in (None, PGP) and key_id(value)):
        found = key_id(value)
        if found is None:
            raise UsageError(f"{value!r} is not a PGP key id: give 8 or 16 hex digits (spaces and 0x allowed)")
        return {"entity_kind": PGP_KEY_ID, "value": found}
    if kind is not None and kind not in WATCH_ENTITY_KINDS:
        raise UsageError(f"entity kind {kind!r} is not one of {', '.join(WATCH_ENTITY_KINDS)}")
    readings = list(pivot_ids(value, kind).values())
    if not readings:
        what = f"a {kind}" if kind else "a value darkcrawl extracts"
        raise UsageError(f"{value!r} is not {what}: give an address, a PGP fingerprint or key id, an e-mail, "
                         "network:handle, a vendor name (--entity-kind vendor) or an onion")
    if kind is None and typed_value(value).strip().partition(":")[0].lower() in HANDLE_NETWORKS:  # network:x, t.me/x
        readings = [reading for reading in readings if reading[0] == HANDLE] or readings
    specific = [reading for reading in readings if reading[0] in _SPECIFIC]
    if kind is None and specific:  # pivot's order: an address before a fingerprint (0x + 40 hex is both)
        readings = specific[:1]
    if len(readings) != 1:
        kinds = " or a ".join(sorted({reading[0] for reading in readings}))
        raise UsageError(f"{value!r} may be a {kinds}: say which with --entity-kind (a handle: write network:handle)")
    entity_kind, normalised = readings[0]
    return {"entity_kind": entity_kind, "value": normalised}


class EntityMatcher:
    """The entity watches, indexed by (kind, value): a page costs one lookup per entity it shows, whatever the
    number of watches. :meth:`evaluate` returns watch id -> matches."""

    def __init__(self, watches: Iterable[Watch]) -> None:
        self.by_value: dict[tuple[str, str], list[str]] = {}
        for watch in watches:
            if watch.kind == ENTITY:
                key = (str(watch.spec["entity_kind"]), str(watch.spec["value"]))
                self.by_value.setdefault(key, []).append(watch.id)
        self.key_ids = any(kind == PGP_KEY_ID for kind, _value in self.by_value)

    def evaluate(self, page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        if not self.by_value or not page.get("signals"):
            return {}
        found: dict[str, list[dict[str, Any]]] = {}
        text: str | None = None
        for entity in page_entities(page):
            hits = list(self.by_value.get((entity.kind, entity.value), ()))
            if self.key_ids and entity.kind == PGP:
                for key_id in _key_ids_of(entity.value):
                    hits += self.by_value.get((PGP_KEY_ID, key_id), [])
            if not hits:
                continue
            if text is None:
                text = page_text(page)
            context = _entity_context(page, text, entity.kind, entity.value, entity.label)
            for watch_id in hits:
                found.setdefault(watch_id, []).append(
                    {"kind": ENTITY, "value": entity.value, "entity_kind": entity.kind, "context": context,
                     "rule": None}
                )
        return found


def _key_ids_of(fingerprint: str) -> tuple[str, ...]:
    """The key ids a fingerprint answers to: the last 16 and 8 hex digits of a v4 one (40), the first 16 of a v6
    one (64)."""
    if len(fingerprint) == 40:
        return fingerprint[-16:], fingerprint[-8:]
    return (fingerprint[:16],) if len(fingerprint) == 64 else ()


def _entity_context(page: dict[str, Any], text: str, kind: str, value: str, label: str) -> str:
    """Where the value shows: extraction's own context for an address, else the first place its spelling is written
    (a fingerprint is computed from a key block, so it may be nowhere: then the key's user ids)."""
    signals = page.get("signals") or {}
    if kind == CRYPTO and (context := address_context(page, label)):
        return context
    lowered = lower_same_length(text)
    for spelling in (label, value):
        at = lowered.find(lower_same_length(spelling)) if spelling else -1
        if at >= 0:
            return context_around(text, at, at + len(spelling))
    if kind == PGP:
        for key in signals.get("pgp_keys") or []:
            if str(key.get("fingerprint") or "").replace(" ", "").upper() == value:
                return context_around("; ".join(str(uid) for uid in key.get("uids") or []), 0, 0)
    return ""
