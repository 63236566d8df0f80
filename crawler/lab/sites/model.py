"""The fixture sites' data model: pages as served, and what each page is known to contain.

Offers :class:`Page` and :class:`Site` (what :mod:`crawler.lab.serve` serves), :class:`PageTruth` (the signals a page
contains, for the ground-truth table of :mod:`crawler.lab.sites.truth`) and :class:`Doc`, the writer every site builder
renders through: each helper returns the HTML fragment *and* records the signal it shows, so a page and its truth are
made from the same constants in the same call and cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlsplit

from .keys import PgpKey

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Page:
    """One served resource: its bytes, Content-Type, HTTP status and extra response headers."""

    body: bytes
    content_type: str = HTML
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Site:
    """A fixture site: its name and its pages by path (``"/"``, ``"/vendor/x"``, ``"/listings?page=2"``)."""

    name: str
    pages: dict[str, Page] = field(default_factory=dict)


def _add(items: list[Any], item: Any) -> None:
    if item not in items:
        items.append(item)


@dataclass
class PageTruth:
    """The signals one fixture page contains, as an extractor should report them (normalised, first-seen order).

    ``crypto`` holds (currency, address) pairs, ``handles`` (network, handle) pairs; ``vendors`` the names a vendor
    label or a ``/vendor/<name>`` link gives, ``authors`` the forum members linked as post authors or profiles
    (``/user/<name>``: people, not vendors); ``onions`` every onion hostname the page names (in links or in its text,
    obfuscated or not; its own site's host too when it links within the site, as relative links resolve to it),
    ``onion_links`` the absolute onion URLs of its links to other sites.
    """

    language: str
    crypto: list[tuple[str, str]] = field(default_factory=list)
    pgp_fingerprints: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    handles: list[tuple[str, str]] = field(default_factory=list)
    vendors: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    onions: list[str] = field(default_factory=list)
    onion_links: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used by :func:`crawler.lab.sites.truth.expected_signals`."""
        return {
            "language": self.language,
            "crypto_addresses": [{"currency": currency, "address": address} for currency, address in self.crypto],
            "pgp_fingerprints": list(self.pgp_fingerprints),
            "emails": list(self.emails),
            "handles": [{"network": network, "handle": handle} for network, handle in self.handles],
            "vendors": list(self.vendors),
            "authors": list(self.authors),
            "onions": list(self.onions),
            "onion_links": list(self.onion_links),
        }


@dataclass
class Built:
    """A page together with its truth, as the site builders return them."""

    page: Page
    truth: PageTruth


class Doc:
    """Render one page's signal-bearing fragments while recording them in :attr:`truth`.

    Every helper returns escaped HTML (or plain text for ``text=True`` documents) ready to paste into the page.
    """

    def __init__(self, language: str, *, text: bool = False):
        self.truth = PageTruth(language=language)
        self.text = text

    def _out(self, value: str) -> str:
        return value if self.text else escape(value)

    def address(self, currency: str, address: str, shown: str | None = None) -> str:
        """Show a crypto address (*shown* when it is written differently from its normal form)."""
        _add(self.truth.crypto, (currency, address))
        return self._out(shown if shown is not None else address)

    def pgp(self, key: PgpKey, armored: str | None = None) -> str:
        """Show *key*'s armored public key (or the given mangled *armored* text, already HTML) in a ``<pre>``."""
        _add(self.truth.pgp_fingerprints, key.fingerprint)
        if armored is not None:
            return armored
        return key.armored if self.text else f'<pre class="pgp-key">{escape(key.armored)}</pre>'

    def email(self, address: str, shown: str | None = None) -> str:
        """Show an e-mail address, plainly or obfuscated as *shown* ("name [at] domain [dot] com")."""
        _add(self.truth.emails, address.lower())
        return self._out(shown if shown is not None else address)

    def handle(self, network: str, handle: str, shown: str) -> str:
        """Show a messenger handle (*shown* includes its label, e.g. "Jabber: x@y"); *handle* is its normal form."""
        _add(self.truth.handles, (network, handle))
        return self._out(shown)

    def vendor(self, name: str) -> None:
        """Record that the page names vendor *name* (the caller renders the label or profile link)."""
        _add(self.truth.vendors, name)

    def vendor_link(self, name: str, prefix: str = "") -> str:
        """A link to the vendor's profile page, with the ``vendor-name`` class the vendor rules select."""
        self.vendor(name)
        return f'<a class="vendor-name" href="{prefix}/vendor/{escape(name)}">{escape(name)}</a>'

    def author_link(self, name: str) -> str:
        """A link to a forum member's profile (``/user/<name>``), recorded as an author, not a vendor."""
        _add(self.truth.authors, name)
        return f'<a class="author" href="/user/{escape(name)}">{escape(name)}</a>'

    def onion(self, host: str, shown: str | None = None) -> str:
        """Name an onion in the text (*shown* may obfuscate it, e.g. "abc[.]onion")."""
        _add(self.truth.onions, host)
        return self._out(shown if shown is not None else host)

    def onion_link(self, url: str, label: str) -> str:
        """A link to another onion site (absolute URL)."""
        host = urlsplit(url).hostname or ""
        _add(self.truth.onions, host)
        _add(self.truth.onion_links, url)
        return f'<a href="{escape(url)}">{escape(label)}</a>'


def html_page(lang: str, title: str, body: str, *, head: str = "") -> bytes:
    """Wrap *body* in a complete HTML5 document; return its UTF-8 bytes."""
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n{head}'
        f"<title>{escape(title)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    ).encode()
