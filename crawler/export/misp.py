"""Alerts as MISP events (PyMISP), written as a MISP feed directory or pushed to a MISP instance. Documented in
docs/sharing.md.

* :func:`build_event` (:func:`build_events` for many) -- one :class:`~pymisp.MISPEvent` for a
  :class:`~crawler.export.cases.Case`: MISP object templates shipped with PyMISP for the values (``url``,
  ``tor-hiddenservice``, ``coin-address``, ``pgp-meta``, ``telegram-account``, ``user-account``), attributes for
  e-mails, Jabber ids and matched terms, one comment per alert, TLP/severity/watch tags, first and last seen. Every
  UUID is derived from the alert (uuid5), and every timestamp from the alerts' dates: exporting the same alerts again
  gives the same bytes, and a changed alert a newer timestamp, which is what MISP compares to update an event.
* :func:`write_feed` -- ``<uuid>.json`` per event, ``manifest.json`` and ``hashes.csv``, as MISP's feed reader
  expects; events already in the directory are kept (``prune`` removes those not written now).
* :class:`MispTarget` and :func:`push_events` -- add or update (by UUID) each event on a MISP instance with PyMISP;
  the API key is read from a file or the settings, never printed, and TLS is verified (``DARKCRAWL_MISP_CA_CERTS``).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler import settings as default_settings
from crawler.errors import ServiceError, UsageError
from crawler.export import cases as c
from crawler.export import write_atomic

if TYPE_CHECKING:
    from pymisp import MISPEvent, MISPObject
    from scrapy.settings import BaseSettings

log = logging.getLogger(__name__)

TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
# MISP threat levels: 1 high, 2 medium, 3 low, 4 undefined
THREAT_LEVELS = {"critical": 1, "high": 1, "medium": 2, "low": 3}
DISTRIBUTION_ORG_ONLY = 0
DISTRIBUTION_INHERIT = 5
CONTEXT_CHARS = 300
FEED_FILE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json")
PUSH_TIMEOUT = 60.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def tlp_level(tlp: str) -> str:
    """The TLP 2.0 level for *tlp* (``white`` is TLP 1.0's ``clear``). Raises :class:`UsageError` for another."""
    level = tlp.strip().lower().removeprefix("tlp:")
    level = "clear" if level == "white" else level
    if level not in TLP_LEVELS:
        raise UsageError(f"TLP {tlp!r}: use one of {', '.join(TLP_LEVELS)}")
    return level


def parse_time(text: str) -> datetime:
    """An ISO 8601 time of an alert document (``2026-12-06T18:00:00.000Z``) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _tag_value(text: str) -> str:
    return str(text).replace('"', "'").strip()


@dataclass(frozen=True)
class Producer:
    """Who shares: the organisation named in each event (``Orgc``) and the STIX identity."""

    name: str = default_settings.DARKCRAWL_EXPORT_ORG

    @property
    def uuid(self) -> str:
        return c.stable_uuid("organisation", self.name)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Producer:
        name = str(settings.get("DARKCRAWL_EXPORT_ORG") or "").strip()
        if not name:
            raise UsageError("DARKCRAWL_EXPORT_ORG is empty: set it to your organisation's name (partners see it)")
        return cls(name)


def _comment(value: c.Value) -> str:
    context = " ".join(value.context.split())[:CONTEXT_CHARS]
    return f"{value.role}: {context}" if context else value.role


class _EventBuilder:
    """Adds the values of one case to one event, every UUID and timestamp derived from the case."""

    def __init__(self, event: MISPEvent, case: c.Case, stamp: datetime) -> None:
        self.event = event
        self.case = case
        self.stamp = stamp
        self.objects: dict[tuple[str, str], MISPObject] = {}

    def uuid(self, *parts: str) -> str:
        return c.stable_uuid(self.case.key, *parts)

    def _seen(self, item: Any, value: c.Value) -> None:
        if value.first_seen:
            item.first_seen = parse_time(value.first_seen)
        if value.last_seen and value.last_seen >= value.first_seen:
            item.last_seen = parse_time(value.last_seen)

    def obj(self, template: str, value: c.Value, attributes: Iterable[tuple[str, Any]]) -> MISPObject:
        from pymisp import MISPObject

        misp_object = MISPObject(template, standalone=False, strict=True)
        misp_object.uuid = self.uuid("object", template, value.value)
        misp_object.comment = _comment(value)
        misp_object.timestamp = self.stamp
        self._seen(misp_object, value)
        for relation, attribute_value in attributes:
            if attribute_value in (None, "", []):
                continue
            attribute = misp_object.add_attribute(
                relation, value=attribute_value, uuid=self.uuid("object", template, value.value, relation,
                                                                str(attribute_value)),
                timestamp=self.stamp, distribution=DISTRIBUTION_INHERIT,
            )
            if attribute is None:  # PyMISP refuses a value its template cannot hold
                raise ValueError(f"MISP object {template} refused {relation}={attribute_value!r}")
        self.event.add_object(misp_object)
        self.objects[value.key] = misp_object
        return misp_object

    def attribute(self, kind: str, value: c.Value, category: str | None = None, to_ids: bool | None = None) -> None:
        options: dict[str, Any] = {"category": category} if category else {}
        if to_ids is not None:
            options["to_ids"] = to_ids
        attribute = self.event.add_attribute(
            kind, value.value, uuid=self.uuid("attribute", kind, value.value), comment=_comment(value),
            timestamp=self.stamp, distribution=DISTRIBUTION_INHERIT, **options,
        )
        self._seen(attribute, value)

    def add(self, value: c.Value) -> None:
        """The value as the MISP object or attribute partner tools expect for its kind."""
        detail = value.detail
        if value.kind == c.URL:
            parts = urlsplit(value.value)
            self.obj("url", value, [("url", value.value), ("host", parts.hostname), ("scheme", parts.scheme),
                                    ("resource_path", parts.path or None), ("text", detail.get("title"))])
        elif value.kind == c.ONION:
            self.obj("tor-hiddenservice", value, [("address", value.value), ("title", detail.get("title")),
                                                  ("language", detail.get("language"))])
        elif value.kind == c.CRYPTO:
            currency = str(detail.get("currency") or "")
            relation = {"BTC": "address", "XMR": "address-xmr"}.get(currency, "address-crypto")
            self.obj("coin-address", value, [(relation, value.value), ("symbol", currency or None)])
        elif value.kind == c.PGP_KEY_ID:
            self.obj("pgp-meta", value, [("key-id", value.value)])
        elif value.kind == c.PGP:
            names, emails = c.pgp_uid_parts(detail.get("uids") or [])
            attributes = [("key-id", value.value), ("key-id", detail.get("key_id"))]
            attributes += [("user-id-name", name) for name in names] + [("user-id-email", e) for e in emails]
            self.obj("pgp-meta", value, attributes)
        elif value.kind == c.EMAIL:
            self.attribute("email", value)
        elif value.kind == c.HANDLE:
            network, _, handle = value.value.partition(":")
            if network == "xmpp":
                self.attribute("jabber-id", replace(value, value=handle))
            elif network == "telegram":
                self.obj("telegram-account", value, [("username", handle)])
            else:
                self.obj("user-account", value, [("username", handle), ("account-type", network)])
        elif value.kind == c.VENDOR:
            self.obj("user-account", value, [("username", value.value), ("account-type", "darknet market vendor")])
        else:
            self.attribute("text", value, category="Other", to_ids=False)

    def link_clone(self, values: list[c.Value]) -> None:
        """The alerted page and site ``impersonates`` the original the watch protects (clone watches)."""
        originals = [self.objects.get(v.key) for v in values if v.role in (c.CLONED_SITE, c.CLONED_PAGE)]
        copies = [self.objects.get(v.key) for v in values if v.role in (c.ALERTED_PAGE, c.ALERTED_SITE)]
        for alerted in filter(None, copies):
            for original in filter(None, originals):
                if original.name == alerted.name:
                    reference = alerted.add_reference(original.uuid, "impersonates")
                    reference.uuid = self.uuid("reference", alerted.uuid, original.uuid)
                    reference.timestamp = int(self.stamp.timestamp())

    def alert_comment(self, alert: dict[str, Any]) -> None:
        watch = alert.get("watch") or {}
        page = alert.get("page") or {}
        matches = "; ".join(
            f"{m.get('value')}" + (f" ({' '.join(str(m.get('context') or '').split())[:CONTEXT_CHARS]})"
                                   if m.get("context") else "")
            for m in alert.get("matches") or []
        )
        clone = alert.get("clone") or {}
        text = (f"darkcrawl alert {alert.get('alert_id')} ({alert.get('state') or 'new'}, from a "
                f"{alert.get('source') or 'crawl'}): watch '{watch.get('name')}' ({watch.get('kind')}, severity "
                f"{watch.get('severity')}) matched {page.get('url')} (title '{page.get('title') or ''}', language "
                f"{page.get('language') or '?'}), first seen {alert.get('first_seen')}, last seen "
                f"{alert.get('last_seen')}")
        if matches:
            text += f". Matches: {matches}"
        if clone:
            original = clone.get("of_url") or clone.get("of_site")
            text += f". Clone of {original}, SimHash distance {clone.get('distance')}"
        if alert.get("state_note"):
            text += f". Analyst note: {alert['state_note']}"
        attribute: Any = self.event.add_attribute(
            "comment", text, uuid=self.uuid("alert", str(alert.get("alert_id"))), category="Other", to_ids=False,
            timestamp=self.stamp, distribution=DISTRIBUTION_INHERIT,
        )
        attribute.first_seen = parse_time(str(alert.get("first_seen")))


def event_tags(case: c.Case, tlp: str) -> list[str]:
    """TLP, severity, the watches and their tags, a named case: what partners filter on."""
    tags = [f"tlp:{tlp_level(tlp)}"]
    if case.severity:
        tags.append(f'darkcrawl:severity="{case.severity}"')
    tags += [f'darkcrawl:watch="{_tag_value(str(watch.get("name") or watch.get("id")))}"' for watch in case.watches]
    tags += [f'darkcrawl:watch-tag="{_tag_value(tag)}"' for tag in case.tags]
    if case.key.startswith("case:"):
        tags.append(f'darkcrawl:case="{_tag_value(case.key.removeprefix("case:"))}"')
    return tags


def build_events(cases: list[c.Case], producer: Producer, tlp: str = "amber",
                 pages: dict[str, dict[str, Any]] | None = None) -> list[MISPEvent]:
    """:func:`build_event` for each case. Raises :class:`~crawler.errors.DarkcrawlError` (one line naming the alerts)
    for a case that cannot be exported."""
    events = []
    for case in cases:
        try:
            events.append(build_event(case, producer, tlp, pages))
        except Exception as exc:
            raise c.export_failure(case, exc) from None
    return events


def build_event(case: c.Case, producer: Producer, tlp: str = "amber",
                pages: dict[str, dict[str, Any]] | None = None) -> MISPEvent:
    """The MISP event of *case* (published, for a feed; :func:`push_events` unpublishes its copy). *pages*: page
    documents by id, whose signals are added (optional)."""
    from pymisp import MISPEvent, MISPOrganisation

    stamp = parse_time(case.modified)
    event = MISPEvent()
    event.uuid = case.uuid
    event.info = case.title
    event.set_date(parse_time(case.first_seen).date())
    event.timestamp = stamp
    event.publish_timestamp = stamp
    event.published = True
    event.analysis = 0 if set(case.states) <= {"new"} else 1  # initial / ongoing (acknowledged by an analyst)
    event.threat_level_id = THREAT_LEVELS.get(case.severity, 4)
    organisation = MISPOrganisation()
    organisation.name = producer.name
    organisation.uuid = producer.uuid
    event.Orgc = organisation
    for tag in event_tags(case, tlp):
        event.add_tag(tag)
    builder = _EventBuilder(event, case, stamp)
    values = c.case_values(case, pages)
    for value in values:
        builder.add(value)
    builder.link_clone(values)
    for alert in case.alerts:
        builder.alert_comment(alert)
    return event


# --- the feed directory ----------------------------------------------------------------------------------------------


@dataclass
class FeedReport:
    """What :func:`write_feed` did: event files written, kept from earlier exports, removed (``prune``)."""

    directory: Path
    written: list[str] = field(default_factory=list)
    kept: int = 0
    removed: int = 0


def _existing_meta(directory: Path) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The manifest and the hash lines (by event UUID) of an earlier export; empty when absent or unreadable."""
    manifest: dict[str, Any] = {}
    hashes: dict[str, list[str]] = {}
    try:
        loaded = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        manifest = loaded if isinstance(loaded, dict) else {}
    except (OSError, ValueError):
        pass
    try:
        for line in (directory / "hashes.csv").read_text(encoding="utf-8").splitlines():
            digest, _, event_uuid = line.partition(",")
            if digest and event_uuid:
                hashes.setdefault(event_uuid, []).append(digest)
    except OSError:
        pass
    return manifest, hashes


def _meta_of_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Manifest entry and attribute hashes of an event file another export wrote (when its manifest was lost)."""
    from pymisp import MISPEvent

    event = MISPEvent()
    event.load_file(str(path))
    return event.manifest, event.attributes_hashes("md5")


def write_feed(events: list[MISPEvent], directory: Path, prune: bool = False) -> FeedReport:
    """Write *events* as a MISP feed in *directory* (created if needed): ``<uuid>.json`` each (``{"Event": ...}``),
    then ``manifest.json`` (event UUID -> info, date, tags, timestamp...) and ``hashes.csv`` (MD5 of each attribute
    value, event UUID) covering every event file in the directory. Raises :class:`UsageError` when the directory
    cannot be written."""
    report = FeedReport(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        old_manifest, old_hashes = _existing_meta(directory)
        manifest: dict[str, Any] = {}
        hashes: dict[str, list[str]] = {}
        for event in events:
            feed = event.to_feed(with_meta=True)
            meta = feed["Event"].pop("_manifest")
            digests = feed["Event"].pop("_hashes")
            write_atomic(directory / f"{event.uuid}.json", json.dumps(feed, indent=1, sort_keys=True) + "\n")
            manifest.update(meta)
            hashes[event.uuid] = digests
            report.written.append(event.uuid)
        for path in sorted(directory.iterdir()):
            event_uuid = path.name.removesuffix(".json")
            if not FEED_FILE.fullmatch(path.name) or event_uuid in manifest:
                continue
            if prune:
                path.unlink()
                report.removed += 1
                continue
            if event_uuid in old_manifest and event_uuid in old_hashes:
                manifest[event_uuid], hashes[event_uuid] = old_manifest[event_uuid], old_hashes[event_uuid]
            else:
                meta, hashes[event_uuid] = _meta_of_file(path)
                manifest.update(meta)
            report.kept += 1
        lines = [f"{digest},{event_uuid}" for event_uuid in sorted(hashes) for digest in hashes[event_uuid]]
        write_atomic(directory / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        write_atomic(directory / "hashes.csv", "".join(line + "\n" for line in lines))
    except OSError as exc:
        raise UsageError(f"cannot write the MISP feed in {directory}: {exc.strerror or exc}") from None
    return report


# --- pushing to a MISP instance --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MispTarget:
    """A MISP instance: base URL, API key (never shown), CA file to verify its certificate ('' = system CAs)."""

    url: str
    api_key: str = field(repr=False)
    ca_certs: str = ""

    @classmethod
    def from_settings(cls, settings: BaseSettings, url: str | None = None, api_key_file: str | None = None,
                      ca_certs: str | None = None) -> MispTarget:
        """``DARKCRAWL_MISP_URL``/``_API_KEY``/``_CA_CERTS``; the command line's *url*, *api_key_file* and *ca_certs*
        win. Raises :class:`UsageError` for a missing or malformed URL or key, or a missing CA file."""
        base = (url or str(settings.get("DARKCRAWL_MISP_URL") or "")).strip().rstrip("/")
        if not base:
            raise UsageError("no MISP URL: give --push https://misp.example or set DARKCRAWL_MISP_URL")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"MISP URL {base!r} must look like https://misp.example")
        if parts.username or parts.password:
            raise UsageError("the MISP URL contains credentials: remove them and give the API key with "
                             "--api-key-file or DARKCRAWL_MISP_API_KEY")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise UsageError(f"MISP URL {base} is plain HTTP: the API key would cross the network in the clear; "
                             "use https://")
        key = _read_key(api_key_file) if api_key_file else str(settings.get("DARKCRAWL_MISP_API_KEY") or "").strip()
        if not key:
            raise UsageError("no MISP API key: give --api-key-file FILE (the key alone in it) or set "
                             "DARKCRAWL_MISP_API_KEY")
        ca = (ca_certs if ca_certs is not None else str(settings.get("DARKCRAWL_MISP_CA_CERTS") or "")).strip()
        if ca:
            try:
                ssl.create_default_context(cafile=ca)
            except (ssl.SSLError, OSError) as exc:
                raise UsageError(f"MISP CA file {ca} is not a readable PEM CA certificate ({exc})") from None
        return cls(base, key, ca)

    def mask(self, text: str) -> str:
        """*text* with the API key (and any URL userinfo or authorization header) masked: for messages built from what
        the server or PyMISP said. The key may come from a file, so the settings-wide masking may not know it."""
        from crawler.redact import mask_text

        return mask_text(text, [self.api_key])


def _read_key(path: str) -> str:
    """The key in the file *path*. A path that does not exist is not repeated in the message: it may be the key
    itself, typed where the file's name belongs."""
    if not Path(path).is_file():
        raise UsageError("the MISP API key file given with --api-key-file does not exist: give the path of a file "
                         "that holds the key (never the key itself)")
    try:
        key = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"cannot read the MISP API key file {path}: {exc.strerror or exc}") from None
    if not key or len(key.split()) != 1:
        raise UsageError(f"the MISP API key file {path} must hold the key alone, on one line")
    return key


@dataclass
class PushReport:
    """Events added and updated on the instance (by UUID), and those it refused with its reason."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _service_error(target: MispTarget, exc: Exception) -> ServiceError:
    import requests

    text = target.mask(" ".join(str(exc).split()))
    if isinstance(exc, requests.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return ServiceError(f"MISP at {target.url}: TLS failed, its certificate is not trusted: give its CA file with "
                            "--misp-ca-certs or DARKCRAWL_MISP_CA_CERTS")
    if isinstance(exc, requests.exceptions.ConnectionError) or "Connection refused" in text or "Max retries" in text:
        return ServiceError(f"MISP at {target.url} cannot be reached: check the URL and that it runs")
    if "403" in text or "401" in text or "Authentication" in text:
        return ServiceError(f"MISP at {target.url} refused the API key: check --api-key-file / "
                            "DARKCRAWL_MISP_API_KEY (the key of a user allowed to add events)")
    return ServiceError(f"MISP at {target.url} failed: {text[:300]}")


def _refusal(target: MispTarget, answer: Any) -> str | None:
    if isinstance(answer, dict) and "errors" in answer:
        return target.mask(" ".join(str(answer["errors"]).split()))[:300]
    return None


def connect(target: MispTarget) -> Any:
    """A PyMISP client (it asks the instance its version and the key's user). Raises :class:`ServiceError`."""
    from pymisp import PyMISP

    # PyMISP logs each refused request with the server's answer; darkcrawl reports them itself, once
    logging.getLogger("pymisp").setLevel(logging.CRITICAL)
    try:
        return PyMISP(target.url, target.api_key, ssl=target.ca_certs or True, timeout=PUSH_TIMEOUT, tool="darkcrawl")
    except Exception as exc:
        raise _service_error(target, exc) from None


def push_events(target: MispTarget, events: list[MISPEvent], client: Any = None) -> PushReport:
    """Add each event the instance does not have (by UUID), update the others: pushing twice updates, never
    duplicates. Pushed copies are unpublished and shared with the instance's organisation only (distribution 0):
    its analysts review, publish and widen them. Raises :class:`ServiceError` when the instance cannot be used at all;
    an event it refuses is listed in the report."""
    report = PushReport()
    misp = client or connect(target)
    for original in events:
        event = copy.deepcopy(original)
        event.published = False
        event.distribution = DISTRIBUTION_ORG_ONLY
        try:
            if misp.event_exists(event.uuid):
                answer, done = misp.update_event(event), report.updated
            else:
                answer, done = misp.add_event(event), report.added
        except Exception as exc:
            raise _service_error(target, exc) from None
        refusal = _refusal(target, answer)
        if refusal:
            report.refused.append(f"{event.uuid}: {refusal}")
        else:
            done.append(event.uuid)
    return report
