"""What names a site, a page and a page's version, whether a URL may be fetched, and the request meta keys.

The bottom of the house: every layer (fetching, Tor routing, the frontier, rendering, extraction, the index) asks
these questions, so the answers live here once, in a module that imports nothing else of darkcrawl (the layer rules in
pyproject.toml check that). docs/architecture.md shows where it sits.

Offers: :func:`site_key` (the isolation and politeness key of a host), :func:`page_id` and :func:`version_id` (the
index's document ids), :func:`is_valid_onion_v3`, :func:`normalise_onion` and :func:`onion_host` (v3 onion
addresses, checksum checked), :func:`refusal_reason` (may this URL be fetched through Tor?) and the ``META_*``
names of the ``request.meta`` keys darkcrawl's components hand each other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from functools import lru_cache
from urllib.parse import urldefrag, urlsplit

from crawler.hosts import local_host_reason, normalise_host, url_text_problem

# request.meta keys: set by one component, read by another (the module that sets each is named).
META_SEED = "darkcrawl_seed"  # spider, spiders.seeding: the request is a seed
META_LEASE = "darkcrawl_lease"  # frontier scheduler: the Redis lease of a request taken from the shared frontier
META_SITE_TOKEN = "darkcrawl_site_token"  # frontier politeness: the per-site token the request holds
META_WARC = "darkcrawl_warc"  # evidence middleware: where the response's WARC record lies
META_REVIEW = "darkcrawl_review"  # safety middleware: why the body was withheld for review
META_RENDER = "darkcrawl_render"  # asks for (True) or forbids (False) a browser render
META_RENDER_REASON = "darkcrawl_render_reason"  # render middleware: why the page was rendered
META_JS_GATE = "darkcrawl_js_gate"  # render middleware: which JavaScript gate the plain fetch showed
META_SCREENSHOT = "darkcrawl_screenshot"  # render handler: the screenshot's path and SHA-256
META_TOR_INSTANCE = "darkcrawl_tor_instance"  # Tor routing: which tor of the pool carries the request
META_CIRCUIT = "darkcrawl_circuit"  # Tor routing: instance/username/password of the isolated circuit
META_TOR_REQUEUED = "darkcrawl_tor_requeued"  # Tor routing: times the request went back to the queue, tor down
META_RESPONSE_MAX_TIME = "darkcrawl_response_max_time"  # Tor handler: this request's own download time limit
META_PATTERN_RUN = "darkcrawl_pattern_run"  # spider: how many same-pattern URLs in a row led here

ONION_LABEL_LENGTH = 56
_BASE32_LABEL = re.compile(r"[a-z2-7]{56}")


def site_key(host: str) -> str:
    """Return the isolation key of *host*: the host itself, lowercased, without port or trailing dot."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and "]" in host:
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def page_id(url: str) -> str:
    """The page document's id: SHA-256 of its URL without fragment, so a recrawl updates the same document."""
    return hashlib.sha256(urldefrag(url)[0].encode("utf-8")).hexdigest()


def version_id(page: str, content_sha256: str, since: str) -> str:
    """The id of a version: SHA-256 of the page id, its content hash and the fetch that first showed that content
    (content that comes back after a change is a new version: history keeps the order)."""
    return hashlib.sha256(f"{page}\0{content_sha256}\0{since}".encode()).hexdigest()


@lru_cache(maxsize=8192)
def onion_label_is_valid(label: str) -> bool:
    """True when the 56-character lowercase *label* decodes to a version-3 key with a matching checksum.

    A v3 address is base32(pubkey[32] | checksum[2] | version[1]) with version 3 and checksum =
    SHA3-256(".onion checksum" | pubkey | version)[:2] (rend-spec-v3, "Encoding onion addresses")."""
    if len(label) != ONION_LABEL_LENGTH or not _BASE32_LABEL.fullmatch(label):
        return False
    try:
        raw = base64.b32decode(label.upper())
    except (binascii.Error, ValueError):
        return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:35]
    if version != b"\x03":
        return False
    return hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2] == checksum


def is_valid_onion_v3(host: str) -> bool:
    """Return True when *host* is a v3 onion hostname (``<56 base32>.onion``, any case, subdomains and a trailing
    dot allowed) whose version byte is 3 and whose checksum holds. Never raises."""
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    if not name.endswith(".onion"):
        return False
    label = name[: -len(".onion")].rsplit(".", 1)[-1]
    return onion_label_is_valid(label)


def normalise_onion(host: str) -> str | None:
    """Return the bare lowercase ``<label>.onion`` of a valid v3 *host* (subdomains dropped), else ``None``."""
    if not is_valid_onion_v3(host):
        return None
    label = host.strip().rstrip(".").lower()[: -len(".onion")].rsplit(".", 1)[-1]
    return f"{label}.onion"


def onion_host(url: str) -> str | None:
    """Return the v3 onion hostname (lowercase, subdomains dropped) that *url* points to, or ``None`` when the URL
    is malformed or its host is not a valid v3 onion. A bare hostname without scheme is accepted."""
    if not isinstance(url, str) or not url.strip():
        return None
    candidate = url.strip()
    if "://" not in candidate:
        candidate = "http://" + candidate
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        return None
    return normalise_onion(host)


def refusal_reason(url: str, allow_clearnet: bool) -> str | None:
    """Return why *url* must not be fetched (a short stats key), or None if it may be fetched through Tor.

    Seeds, links, redirects and rendered pages all pass here: a local host is refused in any spelling
    (:mod:`crawler.hosts`), clearnet allowed or not."""
    if url_text_problem(url):
        return "bad_url"
    try:
        parts = urlsplit(url)
        host = normalise_host(parts.hostname or "")
    except ValueError:
        return "bad_url"
    if parts.scheme not in ("http", "https"):
        return "scheme"
    if not host:
        return "bad_url"
    if host.endswith(".onion"):
        return None if is_valid_onion_v3(host) else "invalid_onion"
    if local_host_reason(host):
        return "local_address"
    return None if allow_clearnet else "clearnet"
