"""The extraction facade: one page (HTML or text) in, every signal out. The JSON contract is docs/signals.md.

Offers :func:`extract_signals`, :class:`Signals` (with :meth:`Signals.to_dict`, the JSON object) and
:class:`ExtractionConfig` (watch lists, vendor rules, language sample: loaded once, shared by every page).

The chain: decode and parse (:mod:`.text`), language (:mod:`.language`), crypto addresses (:mod:`.crypto`), onions
(:mod:`.onion`), PGP keys (:mod:`.pgp`), contacts (:mod:`.contacts`), vendors (:mod:`.vendors`), watch-list terms
(:mod:`.keywords`), SHA-256 and SimHash of the cleaned text (:mod:`.simhash`). Each stage reads the cleaned text;
watch-list terms are also looked for in the title. A stage that fails on a hostile page loses its own signal
(debug log), never the others'. Every stage runs in time linear in the page (docs/signals.md, "Hostile input"), and
each list is capped at ``ExtractionConfig.max_per_kind`` values, the kinds that reached it counted in ``capped``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from crawler.errors import UsageError

from .caps import DEFAULT_MAX_PER_KIND, Capped
from .contacts import find_contacts
from .crypto import CryptoAddress, find_crypto_addresses
from .keywords import Watchlist, load_watchlists
from .language import DEFAULT_SAMPLE, UNKNOWN, detect_language, load_profiles
from .onion import find_onions, normalise_onion
from .pgp import PgpKey, find_pgp_keys
from .simhash import simhash
from .text import ParsedDocument, parse_document, url_host
from .vendors import VendorRules, find_vendors, load_vendor_rules

log = logging.getLogger(__name__)

T = TypeVar("T")

# The keys of Signals.to_dict(), in order: the contract documented in docs/signals.md.
SIGNAL_KEYS = (
    "title",
    "text_length",
    "language",
    "crypto_addresses",
    "onions",
    "pgp_keys",
    "emails",
    "handles",
    "vendors",
    "keywords",
    "content_sha256",
    "simhash",
    "links",
    "capped",
)
STAGES = ("parse", "language", "crypto", "onions", "pgp", "contacts", "vendors", "keywords", "hashes")


@dataclass(frozen=True)
class ExtractionConfig:
    """What extraction needs besides the page: compiled watch lists, vendor rules, the language sample size.

    Build it once (:meth:`load`, or :func:`default_config`) and pass it to every :func:`extract_signals` call:
    loading and compiling the YAML files is far slower than extracting a page.
    """

    watchlist: Watchlist
    vendor_rules: VendorRules
    language_sample: int = DEFAULT_SAMPLE
    max_per_kind: int = DEFAULT_MAX_PER_KIND

    @classmethod
    def load(
        cls,
        watchlists: Iterable[str | Path] = (),
        vendor_rules: Iterable[str | Path] = (),
        language_sample: int = DEFAULT_SAMPLE,
        max_per_kind: int = DEFAULT_MAX_PER_KIND,
    ) -> ExtractionConfig:
        """Load the watch-list and vendor-rule files (none given: the shipped defaults). *max_per_kind* caps each
        list of values per page (``DARKCRAWL_EXTRACT_MAX_PER_KIND``). Raises :class:`crawler.errors.UsageError`
        naming the file and line of a bad entry, or a cap below 1."""
        if int(max_per_kind) < 1:
            raise UsageError(
                f"DARKCRAWL_EXTRACT_MAX_PER_KIND must be 1 or more (got {max_per_kind}); it caps each kind of signal "
                f"per page (default {DEFAULT_MAX_PER_KIND})"
            )
        load_profiles()
        return cls(
            watchlist=load_watchlists(watchlists),
            vendor_rules=load_vendor_rules(vendor_rules),
            language_sample=max(100, int(language_sample)),
            max_per_kind=int(max_per_kind),
        )


@cache
def default_config() -> ExtractionConfig:
    """The configuration with the shipped watch list and example vendor rules, built on first use."""
    return ExtractionConfig.load()


@dataclass
class Signals:
    """Everything extracted from one page. :meth:`to_dict` is the JSON contract; ``text`` (the cleaned text the
    signals were read from) is kept for the crawler's page item and is not part of the contract."""

    title: str = ""
    text_length: int = 0
    language: dict[str, Any] = field(default_factory=lambda: dict(UNKNOWN))
    crypto_addresses: list[dict[str, Any]] = field(default_factory=list)
    onions: list[str] = field(default_factory=list)
    pgp_keys: list[dict[str, Any]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    handles: list[dict[str, str]] = field(default_factory=list)
    vendors: list[dict[str, str]] = field(default_factory=list)
    keywords: list[dict[str, Any]] = field(default_factory=list)
    content_sha256: str = ""
    simhash: str = ""
    links: dict[str, list[str]] = field(default_factory=lambda: {"onion": [], "clearnet": []})
    capped: dict[str, int] = field(default_factory=dict)
    text: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready object of docs/signals.md (exactly the keys of :data:`SIGNAL_KEYS`)."""
        return {key: getattr(self, key) for key in SIGNAL_KEYS}


def _split_links(hrefs: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """The http(s) links split into onion (valid v3 hosts only) and clearnet, and the onion hosts linked to (all of
    them: the caps are applied by the caller)."""
    onion: list[str] = []
    clearnet: list[str] = []
    onion_hosts: list[str] = []
    for href in hrefs:
        host = url_host(href)
        if not host:
            continue
        if host.endswith(".onion"):
            if normalise_onion(host):
                onion.append(href)
                onion_hosts.append(host)
        else:
            clearnet.append(href)
    return {"onion": onion, "clearnet": clearnet}, onion_hosts


def extract_signals(
    document: str | bytes | ParsedDocument,
    url: str | None = None,
    *,
    content_type: str | None = None,
    config: ExtractionConfig | None = None,
    timings: dict[str, float] | None = None,
    on_parsed: Callable[[Signals], None] | None = None,
) -> Signals:
    """Extract every signal from *document* (HTML or plain text; bytes are decoded by BOM, *content_type* charset,
    ``<meta charset>``, UTF-8, then Windows-1252; or a page parsed already, :meth:`ParsedDocument.for_extraction`,
    which is not parsed again). *url* makes links absolute and lets host-specific vendor rules
    apply. *config* defaults to :func:`default_config`. When *timings* is a dict, each stage's seconds are added
    to it under its name in :data:`STAGES` (for benchmarks). *on_parsed* is called with the :class:`Signals` once
    the title, text and links are known, before the other stages (the worker pool reports them early, so a page
    over its time budget keeps them).

    Returns a :class:`Signals`. Never raises on page content: a stage that fails leaves its field empty.
    """
    config = config or default_config()
    clock = time.perf_counter

    def stage(name: str, function: Callable[[], T], fallback: T) -> T:
        started = clock()
        try:
            return function()
        except Exception:  # page content is hostile input; one stage's failure must not lose the others
            log.debug("extraction stage %s failed on %s", name, url, exc_info=True)
            return fallback
        finally:
            if timings is not None:
                timings[name] = timings.get(name, 0.0) + clock() - started

    if isinstance(document, ParsedDocument):  # parsed by the crawl (the one parse of the page)
        parsed: ParsedDocument | None = document
    else:
        parsed = stage("parse", lambda: parse_document(document, url, content_type), None)
    if parsed is None:
        return Signals(content_sha256=hashlib.sha256(b"").hexdigest(), simhash=simhash(""))
    text = parsed.text
    limit = config.max_per_kind
    capped: dict[str, int] = {}

    def cap(kind: str, values: Capped[T]) -> list[T]:
        if values.beyond:
            capped[kind] = capped.get(kind, 0) + values.beyond
        return list(values)

    all_links, onion_hosts = _split_links(parsed.hrefs)
    links = {group: cap("links", Capped.of(hrefs, limit)) for group, hrefs in all_links.items()}
    signals = Signals(title=parsed.title, text_length=len(text), text=text, links=links, capped=capped)
    if on_parsed is not None:
        on_parsed(signals)
    signals.language = stage("language", lambda: detect_language(text, config.language_sample), dict(UNKNOWN))
    addresses = stage("crypto", lambda: find_crypto_addresses(text, limit=limit), Capped[CryptoAddress]())
    signals.crypto_addresses = [address.to_dict() for address in cap("crypto_addresses", addresses)]
    signals.onions = cap("onions", stage("onions", lambda: find_onions(text, onion_hosts, limit=limit), Capped[str]()))
    keys = stage("pgp", lambda: find_pgp_keys(text, limit=limit), Capped[PgpKey]())
    signals.pgp_keys = [key.to_dict() for key in cap("pgp_keys", keys)]
    contacts = stage("contacts", lambda: find_contacts(text, parsed.hrefs, limit=limit), None)
    if contacts is not None:
        signals.emails, signals.handles = cap("emails", contacts.emails), cap("handles", contacts.handles)
    vendors = stage(
        "vendors",
        lambda: find_vendors(
            text,
            parsed.hrefs,
            url=url,
            tree=parsed.tree,
            html=parsed.html,
            generator=parsed.generator,
            rules=config.vendor_rules,
            limit=limit,
            rule_vendors=parsed.rule_vendors,
        ),
        Capped[dict[str, str]](),
    )
    signals.vendors = cap("vendors", vendors)
    keywords = stage(
        "keywords",
        lambda: config.watchlist.find(f"{parsed.title}\n{text}", normalised=True, limit=limit),
        Capped[dict[str, Any]](),
    )
    signals.keywords = cap("keywords", keywords)

    def hashes() -> tuple[str, str]:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), simhash(text)

    signals.content_sha256, signals.simhash = stage("hashes", hashes, ("", ""))
    return signals
