"""Alerts as one STIX 2.1 bundle (the ``stix2`` library), validated with stix2-validator before it is written.
Documented in docs/sharing.md.

* :func:`build_bundle` -- per case a ``report`` referring to one ``observed-data`` and one ``note`` per alert, the
  values as STIX Cyber-observable Objects (``url``, ``domain-name`` for onions, ``email-addr``, ``user-account`` for
  handles and vendors, and two SCOs of darkcrawl's own defined by STIX 2.1 extension definitions:
  ``x-darkcrawl-crypto-address`` and ``x-darkcrawl-pgp-key``), an ``indicator`` with a STIX pattern per value a
  partner can block or search for, the producer's ``identity`` and the TLP marking on every object. SDO ids are
  uuid5 of the alert or case and the value, SCO ids are STIX's own deterministic ids: a re-export gives the same
  ids, and newer ``modified`` times when alerts changed.
* :func:`validate` -- stix2-validator's verdict: :class:`~crawler.errors.DarkcrawlError` listing its errors, else
  its warnings.
* :func:`bundle_json` -- the bundle's JSON text, keys in a stable order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import stix2
from stix2.properties import ListProperty, StringProperty, TimestampProperty

from crawler.errors import DarkcrawlError
from crawler.export import cases as c
from crawler.export.misp import CONTEXT_CHARS, Producer, tlp_level

# darkcrawl's own SCO types, each defined by an extension definition in every bundle (STIX 2.1, section 7.3)
CRYPTO_EXTENSION = f"extension-definition--{c.stable_uuid('stix', 'extension', 'x-darkcrawl-crypto-address')}"
PGP_EXTENSION = f"extension-definition--{c.stable_uuid('stix', 'extension', 'x-darkcrawl-pgp-key')}"
DARKCRAWL_IDENTITY = f"identity--{c.stable_uuid('stix', 'identity', 'darkcrawl project')}"
EXTENSIONS_CREATED = "2026-12-06T00:00:00.000Z"

# TLP 1.0 marking definitions of the STIX 2.1 specification (section 7.2.1.4), which every STIX tool knows; TLP 2.0's
# CLEAR is TLP 1.0's WHITE; AMBER+STRICT is AMBER plus a statement restricting it to the recipient's organisation.
TLP_MARKINGS = {"clear": stix2.TLP_WHITE, "green": stix2.TLP_GREEN, "amber": stix2.TLP_AMBER,
                "amber+strict": stix2.TLP_AMBER, "red": stix2.TLP_RED}
AMBER_STRICT = stix2.MarkingDefinition(
    id=f"marking-definition--{c.stable_uuid('stix', 'marking', 'TLP:AMBER+STRICT')}",
    created=EXTENSIONS_CREATED,
    created_by_ref=DARKCRAWL_IDENTITY,
    name="TLP:AMBER+STRICT",
    definition_type="statement",
    definition={"statement": "TLP:AMBER+STRICT (FIRST TLP 2.0): recipients may share this only with members of "
                             "their own organisation, on a need-to-know basis."},
)


@stix2.CustomObservable("x-darkcrawl-crypto-address", [
    ("address", StringProperty(required=True)),
    ("currency", StringProperty()),
], ["address"], extension_name=CRYPTO_EXTENSION)
class CryptoAddress:
    """A checksum-validated cryptocurrency address; ``currency`` is the chain's code (BTC, XMR, ETH...)."""


@stix2.CustomObservable("x-darkcrawl-pgp-key", [
    ("fingerprint", StringProperty()),
    ("key_id", StringProperty()),
    ("algorithm", StringProperty()),
    ("key_created", TimestampProperty(precision="millisecond")),
    ("user_ids", ListProperty(StringProperty)),
], ["fingerprint", "key_id"], extension_name=PGP_EXTENSION)
class PgpKey:
    """An OpenPGP public key, named by its full fingerprint (upper-case hex), or only by its key id when an entity
    watch named it so."""


# the decorator gives both classes their keyword arguments, which mypy cannot see
CRYPTO_SCO: Any = CryptoAddress
PGP_SCO: Any = PgpKey


# darkcrawl's SCO types: (extension id, type name, description, schema: the normative definition, in plain text)
SCO_EXTENSIONS = (
    (CRYPTO_EXTENSION, "x-darkcrawl-crypto-address",
     "A cryptocurrency address darkcrawl found and validated by its chain's checksum.",
     "SCO x-darkcrawl-crypto-address: address (string, required; the address as extracted, Ethereum lower-cased), "
     "currency (string: BTC, XMR, ETH, LTC, DOGE, DASH, BCH, ZEC, TRX, SOL). ID-contributing property: address. "
     "See darkcrawl docs/sharing.md."),
    (PGP_EXTENSION, "x-darkcrawl-pgp-key",
     "An OpenPGP public key darkcrawl parsed from an armored block on a page.",
     "SCO x-darkcrawl-pgp-key: fingerprint (string; full v4/v6 fingerprint, upper-case hex), key_id (16 hex digits; "
     "one of the two is present), algorithm, key_created (timestamp), user_ids (list of strings). ID-contributing "
     "properties: fingerprint, key_id. See darkcrawl docs/sharing.md."),
)


def _extension_definitions() -> list[Any]:
    """The darkcrawl project's identity and the extension definitions it authored (fixed ids and dates)."""
    author = stix2.Identity(id=DARKCRAWL_IDENTITY, name="darkcrawl", identity_class="system",
                            created=EXTENSIONS_CREATED, modified=EXTENSIONS_CREATED,
                            description="The darkcrawl crawler's data model")
    return [author] + [
        stix2.ExtensionDefinition(id=extension_id, name=name, description=description, schema=schema,
                                  created_by_ref=DARKCRAWL_IDENTITY, created=EXTENSIONS_CREATED,
                                  modified=EXTENSIONS_CREATED, version="1.0.0", extension_types=["new-sco"])
        for extension_id, name, description, schema in SCO_EXTENSIONS
    ]


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


@dataclass
class _Sco:
    """The SCO of a value, and the pattern of an indicator for it (None: context, not worth an indicator)."""

    obj: Any
    pattern: str | None


def _sco(value: c.Value, markings: list[str]) -> _Sco | None:
    common = {"object_marking_refs": markings}
    detail = value.detail
    if value.kind == c.URL:
        return _Sco(stix2.URL(value=value.value, **common), f"[url:value = '{_quote(value.value)}']")
    if value.kind == c.ONION:
        return _Sco(stix2.DomainName(value=value.value, **common), f"[domain-name:value = '{_quote(value.value)}']")
    if value.kind == c.EMAIL:
        return _Sco(stix2.EmailAddress(value=value.value, **common), f"[email-addr:value = '{_quote(value.value)}']")
    if value.kind == c.CRYPTO:
        currency = str(detail.get("currency") or "") or None
        return _Sco(CRYPTO_SCO(address=value.value, currency=currency, **common),
                    f"[x-darkcrawl-crypto-address:address = '{_quote(value.value)}']")
    if value.kind == c.PGP:
        return _Sco(PGP_SCO(fingerprint=value.value, key_id=detail.get("key_id"), algorithm=detail.get("algorithm"),
                           key_created=detail.get("created"), user_ids=detail.get("uids") or None, **common),
                    f"[x-darkcrawl-pgp-key:fingerprint = '{_quote(value.value)}']")
    if value.kind == c.PGP_KEY_ID:
        return _Sco(PGP_SCO(key_id=value.value, **common), f"[x-darkcrawl-pgp-key:key_id = '{_quote(value.value)}']")
    if value.kind == c.HANDLE:
        network, _, handle = value.value.partition(":")
        return _Sco(stix2.UserAccount(account_login=handle, account_type=network, **common), None)
    if value.kind == c.VENDOR:
        return _Sco(stix2.UserAccount(account_login=value.value, display_name=value.value,
                                      account_type="darknet-market-vendor", **common), None)
    return None


def _context(value: c.Value) -> str:
    context = " ".join(value.context.split())[:CONTEXT_CHARS]
    return f"{value.role}: {context}" if context else value.role


def _alert_note(alert: dict[str, Any]) -> str:
    watch = alert.get("watch") or {}
    page = alert.get("page") or {}
    lines = [f"Watch '{watch.get('name')}' ({watch.get('kind')}, severity {watch.get('severity')}, owner "
             f"{watch.get('owner')}) matched {page.get('url')} (title '{page.get('title') or ''}', language "
             f"{page.get('language') or '?'}). Alert {alert.get('alert_id')}, state {alert.get('state') or 'new'}, "
             f"from a {alert.get('source') or 'crawl'}, first seen {alert.get('first_seen')}, last seen "
             f"{alert.get('last_seen')}."]
    for match in alert.get("matches") or []:
        context = " ".join(str(match.get("context") or "").split())[:CONTEXT_CHARS]
        lines.append(f"- {match.get('kind')} match {match.get('value')!r}" + (f": {context}" if context else ""))
    clone = alert.get("clone") or {}
    if clone:
        lines.append(f"- clone of {clone.get('of_url') or clone.get('of_site')}, SimHash distance "
                     f"{clone.get('distance')}")
    if alert.get("state_note"):
        lines.append(f"Analyst note: {alert['state_note']}")
    return "\n".join(lines)


class _BundleBuilder:
    def __init__(self, producer: Producer, tlp: str) -> None:
        level = tlp_level(tlp)
        self.markings = [TLP_MARKINGS[level].id] + ([AMBER_STRICT.id] if level == "amber+strict" else [])
        self.identity = stix2.Identity(
            id=f"identity--{producer.uuid}", name=producer.name, identity_class="organization",
            created=EXTENSIONS_CREATED, modified=EXTENSIONS_CREATED,
            description="The organisation sharing these darkcrawl alerts",
        )
        self.objects: dict[str, Any] = {}
        for item in [self.identity, TLP_MARKINGS[level], *_extension_definitions()]:
            self.add(item)
        if level == "amber+strict":
            self.add(AMBER_STRICT)

    def add(self, item: Any) -> str:
        self.objects.setdefault(item.id, item)
        return str(item.id)

    def sdo(self, kind: str, key: str, created: str, modified: str, **properties: Any) -> str:
        cls = getattr(stix2, kind)
        item = cls(
            id=f"{cls._type}--{c.stable_uuid('stix', key)}", created=created, modified=modified,
            created_by_ref=self.identity.id, object_marking_refs=self.markings, allow_custom=True, **properties,
        )
        return self.add(item)

    def case(self, case: c.Case, pages: dict[str, dict[str, Any]]) -> None:
        refs: list[str] = []
        for alert in case.alerts:
            refs += self.alert(case, alert, pages.get(str((alert.get("page") or {}).get("id") or "")))
        self.add(stix2.Report(
            id=f"report--{case.uuid}", created=case.first_seen, modified=case.modified, published=case.modified,
            name=case.title, report_types=["threat-report"], created_by_ref=self.identity.id,
            object_marking_refs=self.markings, labels=[label for label in (case.severity, *case.tags) if label] or None,
            object_refs=list(dict.fromkeys(refs)),
            description=f"darkcrawl {len(case.alerts)} alert(s); watches: "
                        + ", ".join(str(w.get("name")) for w in case.watches),
            external_references=[{"source_name": "darkcrawl", "external_id": str(alert.get("alert_id")),
                                  "description": "darkcrawl alert id"} for alert in case.alerts],
            allow_custom=True,  # refers to darkcrawl's own SCOs, defined by the extension definitions
        ))

    def alert(self, case: c.Case, alert: dict[str, Any], page: dict[str, Any] | None) -> list[str]:
        alert_id = str(alert.get("alert_id"))
        first, modified = str(alert.get("first_seen")), c.alert_modified(alert)
        last = str(alert.get("last_seen") or first)
        scos, refs = [], []
        for value in c.alert_values(alert, page):
            found = _sco(value, self.markings)
            if found is None:
                continue
            scos.append(self.add(found.obj))
            if found.pattern:
                refs.append(self.sdo(
                    "Indicator", f"{case.key}|indicator|{value.kind}|{value.value}", first, modified,
                    name=f"{value.kind.replace('_', ' ')} {value.value}", description=_context(value),
                    pattern=found.pattern, pattern_type="stix", valid_from=value.first_seen or first,
                ))
        observed = self.sdo("ObservedData", f"alert:{alert_id}|observed-data", first, modified,
                            first_observed=first, last_observed=max(first, last), number_observed=1,
                            object_refs=list(dict.fromkeys(scos)))
        note = self.sdo("Note", f"alert:{alert_id}|note", first, modified, abstract=f"darkcrawl alert {alert_id}",
                        content=_alert_note(alert), object_refs=[observed])
        return [observed, note, *refs, *scos]


def build_bundle(cases: list[c.Case], producer: Producer, tlp: str = "amber",
                 pages: dict[str, dict[str, Any]] | None = None) -> stix2.Bundle:
    """A STIX 2.1 bundle of *cases* (see the module's documentation). *pages*: page documents by id (optional).
    Raises :class:`~crawler.errors.DarkcrawlError` (one line naming the alerts) for a case that cannot be exported."""
    builder = _BundleBuilder(producer, tlp)
    for case in cases:
        try:
            builder.case(case, pages or {})
        except Exception as exc:
            raise c.export_failure(case, exc) from None
    objects = list(builder.objects.values())
    key = "|".join(f"{item.id}@{getattr(item, 'modified', '')}" for item in objects)
    return stix2.Bundle(objects=objects, id=f"bundle--{c.stable_uuid('stix', 'bundle', key)}", allow_custom=True)


def bundle_json(bundle: stix2.Bundle) -> str:
    return json.dumps(json.loads(bundle.serialize()), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def validate(text: str) -> list[str]:
    """Check *text* (a bundle's JSON) with stix2-validator (STIX 2.1). Returns its warnings; raises
    :class:`DarkcrawlError` naming its errors (a bug in darkcrawl: the bundle is not written)."""
    from stix2validator import ValidationOptions, validate_string

    results = validate_string(text, ValidationOptions(version="2.1"))
    errors = [str(error) for result in _results(results) for error in result.errors]
    if not results.is_valid or errors:
        raise DarkcrawlError(f"the STIX bundle failed stix2-validator ({len(errors)} error(s): "
                             f"{'; '.join(errors[:3])}); nothing written: please report this darkcrawl bug")
    return [str(warning) for result in _results(results) for warning in result.warnings]


def _results(results: Any) -> list[Any]:
    return list(getattr(results, "object_results", None) or [results])
