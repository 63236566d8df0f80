"""From alert documents to what is shared: cases (one per alert, per watch or one named case) and the values each
alert carries. Pure functions, shared by the MISP and STIX exports. Documented in docs/sharing.md.

* :class:`Value` -- one shareable value (URL, onion, crypto address, PGP key, e-mail, handle, vendor, matched term)
  with its role in the alert, its context and dates.
* :class:`Case` -- the alerts that become one MISP event / one STIX report, with their merged dates, severity, tags.
* :func:`group_alerts` -- alerts into cases (``per`` ``alert``, ``watch`` or a named ``case``).
* :func:`alert_values` -- the values of one alert (and of its page's signals, when the page document is given).
* :func:`case_values` -- the values of a case, each once (dates and roles merged).
* :func:`stable_uuid` -- the deterministic UUID (uuid5) of anything exported, so a re-export updates, not duplicates.
* :func:`export_failure` -- the one-line error for a case that cannot be exported (a malformed alert document).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from crawler.errors import DarkcrawlError

# The namespace of every UUID darkcrawl exports (uuid5(NAMESPACE, "darkcrawl")): a MISP event, a STIX report and their
# parts get the same UUID from the same alert wherever and whenever they are exported.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "darkcrawl.export")

PER_ALERT = "alert"
PER_CASE = "case"
PER_CHOICES = (PER_ALERT, PER_CASE)
SEVERITIES = ("low", "medium", "high", "critical")

# value kinds
URL = "url"
ONION = "onion"
CRYPTO = "crypto_address"
PGP = "pgp_fingerprint"
PGP_KEY_ID = "pgp_key_id"  # an entity watch may name a key by its 16-hex-digit id
EMAIL = "email"
HANDLE = "handle"
VENDOR = "vendor"
TERM = "term"  # a watch-list term, regex or YARA rule match: context for people, not an indicator
ENTITY_VALUE_KINDS = frozenset({ONION, CRYPTO, PGP, PGP_KEY_ID, EMAIL, HANDLE, VENDOR})
CLONE_MATCH = "clone"  # a clone watch's match: the original page's URL, and the clone's own payment addresses

# roles (why a value is in the alert), most telling first
MATCHED = "matched by the watch"
ALERTED_PAGE = "page of the alert"
ALERTED_SITE = "site of the alert"
CLONE_PAYMENT = "payment address on the clone, not on the original"
CLONED_SITE = "original site the alert's page clones"
CLONED_PAGE = "original page the alert's page clones"
ORIGINAL_PAYMENT = "payment address of the original site"
ON_PAGE = "seen on the page of the alert"
ROLE_ORDER = (CLONE_PAYMENT, MATCHED, ALERTED_PAGE, ALERTED_SITE, CLONED_SITE, CLONED_PAGE, ORIGINAL_PAYMENT, ON_PAGE)

_UID_EMAIL = re.compile(r"<([^<>\s]+@[^<>\s]+)>")


def stable_uuid(*parts: str) -> str:
    """A UUID (version 5) of *parts*: the same parts always give the same UUID."""
    return str(uuid.uuid5(NAMESPACE, "\0".join(parts)))


@dataclass(frozen=True)
class Value:
    """One shareable value. ``detail`` holds kind-specific facts: ``currency`` (crypto), ``key_id``/``uids``/
    ``algorithm``/``created`` (PGP), ``network`` (handle), ``title``/``language`` (URL, onion)."""

    kind: str
    value: str
    role: str
    context: str = ""
    first_seen: str = ""
    last_seen: str = ""
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.value


@dataclass
class Case:
    """Alerts shared together. ``key`` names it for UUIDs (``alert:<id>``, ``watch:<id>``, ``case:<name>``)."""

    key: str
    title: str
    alerts: list[dict[str, Any]]

    @property
    def uuid(self) -> str:
        return stable_uuid(self.key)

    @property
    def first_seen(self) -> str:
        return min(str(alert.get("first_seen") or "") for alert in self.alerts)

    @property
    def last_seen(self) -> str:
        return max(str(alert.get("last_seen") or alert.get("first_seen") or "") for alert in self.alerts)

    @property
    def modified(self) -> str:
        """When any of its alerts last changed (seen again, acknowledged): a newer export replaces an older one."""
        return max(alert_modified(alert) for alert in self.alerts)

    @property
    def severity(self) -> str:
        levels = [str((alert.get("watch") or {}).get("severity") or "") for alert in self.alerts]
        known = [level for level in levels if level in SEVERITIES]
        return max(known, key=SEVERITIES.index) if known else ""

    @property
    def watches(self) -> list[dict[str, Any]]:
        """The watches of its alerts, each once, in alert order."""
        seen: dict[str, dict[str, Any]] = {}
        for alert in self.alerts:
            watch = alert.get("watch") or {}
            seen.setdefault(str(watch.get("id") or watch.get("name") or ""), watch)
        return list(seen.values())

    @property
    def tags(self) -> list[str]:
        """The watches' tags, each once, in order."""
        return list(dict.fromkeys(tag for watch in self.watches for tag in watch.get("tags") or []))

    @property
    def states(self) -> list[str]:
        return list(dict.fromkeys(str(alert.get("state") or "new") for alert in self.alerts))


def export_failure(case: Case, exc: Exception) -> DarkcrawlError:
    """A case whose alerts cannot be exported (a date that is not one, a value a format refuses): one line naming
    the alerts, so nothing half-made is written."""
    ids = ", ".join(str(alert.get("alert_id")) for alert in case.alerts[:3])
    more = f" and {len(case.alerts) - 3} more" if len(case.alerts) > 3 else ""
    return DarkcrawlError(f"alert {ids}{more} cannot be exported ({type(exc).__name__}: {exc}); nothing was written: "
                          "check the alert document (darkcrawl alerts show ID)")


def alert_modified(alert: dict[str, Any]) -> str:
    return max(str(alert.get(name) or "") for name in ("first_seen", "last_seen", "state_changed_at"))


def _alert_title(alert: dict[str, Any]) -> str:
    watch = alert.get("watch") or {}
    page = alert.get("page") or {}
    return (f"darkcrawl alert: watch '{watch.get('name', '?')}' ({watch.get('kind', '?')}, "
            f"{watch.get('severity') or 'no severity'}) matched {page.get('url') or page.get('site') or '?'}")


def group_alerts(alerts: Iterable[dict[str, Any]], per: str, case_name: str | None = None) -> list[Case]:
    """Alerts as cases, in the order of their first alert: one per alert (``per="alert"``); one per watch
    (``per="case"``), or all in one case named *case_name* when it is given. Raises ValueError for another *per*."""
    alerts = list(alerts)
    if per == PER_ALERT:
        return [Case(f"alert:{alert['alert_id']}", _alert_title(alert), [alert]) for alert in alerts]
    if per != PER_CASE:
        raise ValueError(f"per={per!r}: use one of {', '.join(PER_CHOICES)}")
    if case_name:
        if not alerts:
            return []
        watches = {str((alert.get("watch") or {}).get("id")) for alert in alerts}
        sites = {str((alert.get("page") or {}).get("site")) for alert in alerts}
        title = (f"darkcrawl case '{case_name}': {len(alerts)} alert(s) from {len(watches)} watch(es) on "
                 f"{len(sites)} site(s)")
        return [Case(f"case:{case_name}", title, alerts)]
    by_watch: dict[str, list[dict[str, Any]]] = {}
    for alert in alerts:
        by_watch.setdefault(str((alert.get("watch") or {}).get("id") or ""), []).append(alert)
    cases = []
    for watch_id, members in by_watch.items():
        watch = members[0].get("watch") or {}
        sites = {str((alert.get("page") or {}).get("site")) for alert in members}
        title = (f"darkcrawl watch '{watch.get('name', watch_id)}' ({watch.get('kind', '?')}): {len(members)} "
                 f"alert(s) on {len(sites)} site(s)")
        cases.append(Case(f"watch:{watch_id}", title, members))
    return cases


def _currency(address: str) -> str:
    """The currency extraction would give *address* (its checksum says which chain), or '' when it is not one."""
    from pipelines.extract.crypto import validate_address

    found = validate_address(address)
    return found.currency if found else ""


def pgp_uid_parts(uids: Iterable[str]) -> tuple[list[str], list[str]]:
    """The names and the e-mail addresses in OpenPGP user ids (``Name (comment) <email>``)."""
    names, emails = [], []
    for uid in uids:
        match = _UID_EMAIL.search(uid)
        if match:
            emails.append(match.group(1).lower())
        name = _UID_EMAIL.sub("", uid).strip()
        if name:
            names.append(name)
    return names, emails


def _match_value(match: dict[str, Any], seen: tuple[str, str]) -> Value | None:
    raw = str(match.get("value") or "").strip()
    if not raw:
        return None
    entity_kind = match.get("entity_kind")
    context = str(match.get("context") or "")
    clone = match.get("kind") == CLONE_MATCH
    if entity_kind in ENTITY_VALUE_KINDS:
        detail: dict[str, Any] = {}
        if entity_kind == CRYPTO:
            detail["currency"] = _currency(raw)
        if entity_kind == HANDLE:
            detail["network"] = raw.partition(":")[0]
        return Value(entity_kind, raw, CLONE_PAYMENT if clone else MATCHED, context, *seen, detail=detail)
    if clone:
        return Value(URL, raw, CLONED_PAGE, context, *seen)
    rule = match.get("rule")
    detail = {"watch_kind": match.get("kind"), "rule": rule} if rule else {"watch_kind": match.get("kind")}
    return Value(TERM, raw, MATCHED, context, *seen, detail=detail)


def _page_signal_values(signals: dict[str, Any], seen: tuple[str, str]) -> list[Value]:
    values = []
    for found in signals.get("crypto_addresses") or []:
        address = str(found.get("address") or "")
        if address:
            values.append(Value(CRYPTO, address, ON_PAGE, str(found.get("context") or ""), *seen,
                                detail={"currency": found.get("currency") or _currency(address)}))
    for key in signals.get("pgp_keys") or []:
        fingerprint = str(key.get("fingerprint") or "")
        if fingerprint:
            detail = {name: key[name] for name in ("key_id", "uids", "algorithm", "created", "bits") if key.get(name)}
            values.append(Value(PGP, fingerprint, ON_PAGE, "", *seen, detail=detail))
    values += [Value(EMAIL, str(email), ON_PAGE, "", *seen) for email in signals.get("emails") or [] if email]
    for handle in signals.get("handles") or []:
        if handle.get("network") and handle.get("handle"):
            values.append(Value(HANDLE, f"{handle['network']}:{handle['handle']}", ON_PAGE, "", *seen,
                                detail={"network": handle["network"]}))
    values += [Value(VENDOR, str(vendor["name"]), ON_PAGE, str(vendor.get("source") or ""), *seen)
               for vendor in signals.get("vendors") or [] if vendor.get("name")]
    return values


def alert_values(alert: dict[str, Any], page: dict[str, Any] | None = None) -> list[Value]:
    """Every value of *alert*: what the watch matched, the alerted page and site, a clone's original and the payment
    addresses that differ, and (with *page*, the page document as indexed) the signals of that page."""
    seen = (str(alert.get("first_seen") or ""), str(alert.get("last_seen") or alert.get("first_seen") or ""))
    alerted = alert.get("page") or {}
    page_detail = {"title": alerted.get("title") or "", "language": alerted.get("language") or ""}
    values = [value for match in alert.get("matches") or [] if (value := _match_value(match, seen))]
    if alerted.get("url"):
        values.append(Value(URL, str(alerted["url"]), ALERTED_PAGE, "", *seen, detail=page_detail))
    if alerted.get("site"):
        values.append(Value(ONION, str(alerted["site"]), ALERTED_SITE, "", *seen, detail=page_detail))
    clone = alert.get("clone") or {}
    if clone:
        distance = f"SimHash distance {clone.get('distance')}" if clone.get("distance") is not None else ""
        if clone.get("of_site"):
            values.append(Value(ONION, str(clone["of_site"]), CLONED_SITE, distance, *seen))
        if clone.get("of_url"):
            values.append(Value(URL, str(clone["of_url"]), CLONED_PAGE, distance, *seen))
        addresses = clone.get("addresses") or {}
        for role, listed in ((CLONE_PAYMENT, addresses.get("this")), (ORIGINAL_PAYMENT, addresses.get("watched"))):
            values += [Value(CRYPTO, str(address), role, "", *seen, detail={"currency": _currency(str(address))})
                       for address in listed or [] if address]
    if page:
        values += _page_signal_values(page.get("signals") or {}, seen)
    return merge_values(values)


def merge_values(values: Iterable[Value]) -> list[Value]:
    """Each (kind, value) once, in first-appearance order: the most telling role, the first non-empty context and
    details, the earliest first and latest last sighting."""
    merged: dict[tuple[str, str], Value] = {}
    for value in values:
        known = merged.get(value.key)
        if known is None:
            merged[value.key] = value
            continue
        role = min(known.role, value.role, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else len(ROLE_ORDER))
        merged[value.key] = replace(
            known,
            role=role,
            context=known.context or value.context,
            first_seen=min(filter(None, (known.first_seen, value.first_seen)), default=""),
            last_seen=max(known.last_seen, value.last_seen),
            detail={**value.detail, **{k: v for k, v in known.detail.items() if v}},
        )
    return list(merged.values())


def case_values(case: Case, pages: dict[str, dict[str, Any]] | None = None) -> list[Value]:
    """The values of every alert of *case*, each once. *pages*: page documents by page id (may lack some)."""
    pages = pages or {}
    return merge_values(
        value for alert in case.alerts
        for value in alert_values(alert, pages.get(str((alert.get("page") or {}).get("id") or "")))
    )
