"""From a fetched body (HTML or plain text, bytes or str) to clean text, title and absolute links.

Offers :func:`decode_body` (bytes -> str, as browsers decode: :mod:`.encoding`), :func:`looks_like_html`
and :func:`parse_document` (-> :class:`ParsedDocument`). Contract of the derived fields (``title``, ``links``,
``text_length``) in docs/signals.md.

:func:`parse_document` is the one HTML parse of a crawled page (issue #16): besides what extraction reads, it keeps
what the crawler's other readers need from the same tree (the raw link targets, ``<base>`` and canonical link the
spider resolves by its own rules, and on request the facts of the JavaScript-gate heuristic, :class:`GateFacts`),
and :meth:`ParsedDocument.for_extraction` is the picklable product the extraction workers read instead of the markup.

Nothing here raises on broken markup or undecodable bytes: the worst input gives an empty text. Scripts, styles,
``noscript`` and ``template`` content are dropped; block elements and ``<br>`` become line breaks so that lines
survive (armored PGP blocks and labelled contacts depend on them); runs of spaces collapse.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import unescape
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser as HTMLParser

from .encoding import decode
from .invisible import strip_invisible

log = logging.getLogger(__name__)

DROPPED_TAGS = ["script", "style", "noscript", "template", "svg", "math", "iframe", "object"]
MAX_LINKS = 5000  # links kept per page; a link farm beyond that adds nothing but size
# lexbor's tree building is quadratic in the nesting of div-like elements (100,000 nested <div>s: 20 s). Pages with
# many block tags get their nesting measured first; a hostile one is read without the parser.
DEEP_NESTING_CHECK_ABOVE = 5000  # block tags (open and close) above which nesting is measured
MAX_BLOCK_DEPTH = 2000  # deeper than this: regular expressions instead of the parser (~10 ms of lexbor at this depth)

# What re.IGNORECASE lets an ASCII letter match besides its two cases (Python's Unicode case folding).
_FOLDED_EXTRA = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def _without_ignorecase(pattern: str) -> str:
    """*pattern* (ASCII letters, groups, classes without letter ranges, escapes) with each letter replaced by the
    characters ``re.IGNORECASE`` matches for it: the same matches, without the case folding of every character
    compared, which makes an IGNORECASE scan of a page twice as slow."""
    out: list[str] = []
    in_class = False
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            out.append(pattern[position : position + 2])
            position += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        elif char.isascii() and char.isalpha():
            cases = char.lower() + char.upper() + _FOLDED_EXTRA.get(char.lower(), "")
            out.append(cases if in_class else f"[{cases}]")
        else:
            out.append(char)
        position += 1
    return "".join(out)


# Block elements and <br>, grouped by first letter (a third faster than a flat alternation: this runs at every "<"),
# in any case (by classes rather than re.IGNORECASE: see _without_ignorecase).
BLOCK_TAG_PATTERN = (
    r"<(?=/?(?:a(?:ddress|rticle|side)|b(?:r|lockquote|ody)|center|d(?:iv|[dlt])|f(?:orm|ieldset|ig(?:ure|caption)"
    r"|ooter)|h(?:[1-6r]|eader)|l(?:i|abel|egend)|main|nav|o(?:l|ption)|p(?:re)?|section|t(?:[dhr]|able|itle"
    r"|extarea)|ul)[\s/>])"
)
_BLOCK_TAG = re.compile(_without_ignorecase(BLOCK_TAG_PATTERN))
_NESTING_TAG = re.compile(
    r"<(/?)(?:div|section|article|aside|blockquote|center|main|nav|header|footer|fieldset|figure|form|ul|ol|dl)[\s/>]",
    re.IGNORECASE,
)
# A line break inserted by _BLOCK_TAG, found again (the gate reads the text as the unmarked markup would give it).
_UNMARK = re.compile(r"\n(?=" + _BLOCK_TAG.pattern + ")")
GATE_HIDDEN_TAGS = ("script", "style", "noscript", "template")  # not visible, for the JavaScript-gate heuristic
_HTML_SNIFF = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|div|p|a\s|br|table|span|meta|title)\b", re.IGNORECASE)
# Only what needs changing is matched (a lone space is left alone): substitutions are what these passes cost.
_ODD_SPACES = r"\t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000"  # horizontal whitespace other than " "
_HSPACE = re.compile(rf"[ {_ODD_SPACES}]{{2,}}|[{_ODD_SPACES}]")
_ODD_SPACE = re.compile(rf"[{_ODD_SPACES}]")
_NEWLINE_SPACE = re.compile(r"\n\s+")
_HTTP_NETLOC = re.compile(r"https?://([^/?#]*)", re.IGNORECASE)  # the scheme and the authority of a URL
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class GateFacts:
    """What the JavaScript-gate heuristic (crawler/render/gate.py) reads of a page: its ``<script>`` elements, the
    text of its ``<noscript>`` elements, and its visible body text (scripts, styles, noscript and template content
    removed), words joined by single spaces."""

    scripts: int = 0
    noscript_texts: list[str] = field(default_factory=list)
    visible: str = ""


@dataclass
class ParsedDocument:
    """A body turned into what the extractors read.

    ``tree`` is the selectolax tree (``None`` for plain text), kept for per-site CSS rules; ``html`` the decoded
    markup; ``hrefs`` the absolute link targets in page order, deduplicated, fragments removed.

    For the crawler's readers of the same parse: ``anchors`` the raw ``href`` values of ``<a>`` and ``<area>`` in
    page order, ``base_href`` the first ``<base href>``, ``canonical_href`` the ``href`` of the first ``<link
    rel="canonical">`` that has one (``None`` when absent), ``gate`` the :class:`GateFacts` when asked for.
    ``rule_vendors`` holds the values the vendor rules read from the tree, ``(source, value)``, once evaluated by
    :meth:`for_extraction` (``None``: not yet; :func:`~pipelines.extract.vendors.find_vendors` evaluates them).
    """

    text: str
    title: str = ""
    is_html: bool = False
    html: str = ""
    tree: HTMLParser | None = None
    hrefs: list[str] = field(default_factory=list)
    generator: str = ""
    anchors: list[str] = field(default_factory=list)
    base_href: str | None = None
    canonical_href: str | None = None
    gate: GateFacts | None = None
    rule_vendors: list[tuple[str, str]] | None = None

    def for_extraction(self, rule_vendors: list[tuple[str, str]]) -> ParsedDocument:
        """What an extraction worker needs of this page, small and picklable: no tree, no markup, no crawler
        fields; *rule_vendors* are the vendor rules' values read from the tree
        (:func:`~pipelines.extract.vendors.rule_vendor_values`)."""
        return ParsedDocument(
            text=self.text,
            title=self.title,
            is_html=self.is_html,
            hrefs=self.hrefs,
            generator=self.generator,
            rule_vendors=rule_vendors,
        )


def decode_body(body: str | bytes, content_type: str | None = None) -> str:
    """Return *body* as text, decoded as a browser would (:mod:`.encoding`: a BOM, then a WHATWG label in the HTTP
    charset, then in ``<meta charset>``, then UTF-8, then windows-1252). A str is returned as is. Never raises."""
    if isinstance(body, str):
        return body
    if not isinstance(body, bytes | bytearray | memoryview):
        return ""
    return decode(bytes(body), content_type)


def looks_like_html(text: str, content_type: str | None = None) -> bool:
    """True when *content_type* names HTML/XHTML, or (no usable type) the start of *text* looks like markup."""
    if content_type:
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind in ("text/html", "application/xhtml+xml"):
            return True
        if kind == "text/plain":
            return False
    return bool(_HTML_SNIFF.search(text[:2048]))


@lru_cache(maxsize=16384)  # a site's pages link to the same URLs: navigation, categories, mirrors
def url_host(url: str) -> str | None:
    """The lowercase host of an absolute http(s) *url* (``None`` for other schemes or no host). One regular
    expression for the usual shapes, ``urlsplit`` for the rest (IPv6 literals); never raises."""
    match = _HTTP_NETLOC.match(url)
    if match is None:
        return None
    netloc = match.group(1).rpartition("@")[2]
    if netloc.startswith("["):
        try:
            return urlsplit(url).hostname
        except ValueError:
            return None
    host = netloc.partition(":")[0].rstrip(".").lower()
    return host or None


def normalise_text(text: str) -> str:
    """Collapse horizontal whitespace, drop control characters, invisible characters (:mod:`.invisible`) and blank
    lines; strip each line."""
    text = strip_invisible(_CONTROL.sub("", text))
    if "  " in text or _ODD_SPACE.search(text):  # a scan that finds nothing is cheaper than one that replaces
        text = _HSPACE.sub(" ", text)
    text = _NEWLINE_SPACE.sub("\n", text)
    return text.replace(" \n", "\n").strip()


def _base_url(tree: HTMLParser, url: str | None) -> str | None:
    head = tree.head if tree.head is not None else tree.root
    base = head.css_first("base[href]") if head is not None else None
    href = base.attributes.get("href") if base is not None else None
    if href:
        try:
            return urljoin(url or "", href.strip())
        except ValueError:
            return url
    return url


def _links(anchors: list[str], base: str | None) -> list[str]:
    """Absolute http(s)/mailto/xmpp targets of the raw ``href`` values *anchors*, deduplicated in order, fragments
    removed.

    Absolute and root-relative targets (most of a page's links) are resolved by string operations; only the rest
    go through ``urljoin``, which costs microseconds a link.
    """
    origin = ""
    if base:
        try:
            parts = urlsplit(base)
            if parts.scheme in ("http", "https") and parts.netloc:
                origin = f"{parts.scheme}://{parts.netloc}"
        except ValueError:
            origin = ""
    seen: dict[str, None] = {}
    for raw in anchors:
        href = raw.strip()
        if not href or href[0] == "#":
            continue
        if "#" in href:
            href = href.split("#", 1)[0]
        lowered = href[:8].lower()
        if lowered.startswith(("http://", "https://")):
            absolute = href
        elif lowered.startswith(("mailto:", "xmpp:")):
            absolute = href
        elif origin and href[0] == "/" and not href.startswith("//"):
            absolute = origin + href
        elif lowered.startswith(("javascript:", "data:")):
            continue
        else:
            try:
                absolute = urljoin(base, href) if base else href
                if urlsplit(absolute).scheme.lower() not in ("http", "https"):
                    continue
            except ValueError:
                continue
        seen.setdefault(absolute, None)
        if len(seen) >= MAX_LINKS:
            break
    return list(seen)


def _markup_refs(tree: HTMLParser) -> tuple[list[str], str | None, str | None]:
    """The raw ``href`` of every ``<a>`` and ``<area>`` in page order, the first ``<base href>`` and the ``href`` of
    the first ``<link rel="canonical">`` having one (``rel`` compared exactly, as the spider's CSS did), in one walk
    of the tree."""
    anchors: list[str] = []
    base_href: str | None = None
    canonical_href: str | None = None
    for node in tree.css("a[href], area[href], base[href], link[rel]"):
        tag = node.tag
        attributes = node.attributes
        if tag == "a" or tag == "area":
            anchors.append(attributes.get("href") or "")
        elif tag == "base":
            if base_href is None:
                base_href = attributes.get("href") or ""
        elif canonical_href is None and tag == "link" and "href" in attributes and attributes["rel"] == "canonical":
            canonical_href = attributes["href"] or ""
    return anchors, base_href, canonical_href


def _gate_facts_of(tree: HTMLParser) -> GateFacts:
    """:class:`GateFacts` of *tree*, whose script, style, noscript and template elements are removed on the way."""
    facts = GateFacts(
        scripts=len(tree.css("script")), noscript_texts=[node.text(deep=True) for node in tree.css("noscript")]
    )
    tree.strip_tags(list(GATE_HIDDEN_TAGS))
    body = tree.body
    visible = body.text(deep=True, separator=" ") if body is not None else ""
    facts.visible = " ".join(_UNMARK.sub("", visible).split())
    return facts


def gate_facts(html: str) -> GateFacts:
    """:class:`GateFacts` of *html* parsed on its own (for a page :func:`parse_document` reads without the parser,
    and for callers holding only markup)."""
    return _gate_facts_of(HTMLParser(html))


def parse_document(
    body: str | bytes, url: str | None = None, content_type: str | None = None, *, gate_up_to: int = 0
) -> ParsedDocument:
    """Decode and parse *body*; return its clean text, title and links (absolute against *url* and ``<base>``).

    HTML vs plain text is decided by *content_type* when it says so, else by sniffing. Never raises: broken markup
    is parsed as browsers would, and a parser failure degrades to the tag-stripped text. With *gate_up_to*, a
    non-empty body of at most that many characters also gets its :class:`GateFacts` (``gate``).
    """
    decoded = decode_body(body, content_type)
    want_gate = 0 < len(decoded) <= gate_up_to
    if not looks_like_html(decoded, content_type):
        plain = ParsedDocument(text=normalise_text(decoded))
        if want_gate:  # the gate reads any text response as markup (a text/plain body may hold <script>)
            plain.gate = gate_facts(decoded)
        return plain
    marked, block_tags = _BLOCK_TAG.subn("\n<", decoded)
    if block_tags > DEEP_NESTING_CHECK_ABOVE and _block_depth(decoded) > MAX_BLOCK_DEPTH:
        log.debug("%s nests block elements deeper than %d; reading it without the HTML parser", url, MAX_BLOCK_DEPTH)
        return _without_parser(decoded, url, want_gate)
    try:
        tree = HTMLParser(marked)
        head = tree.head if tree.head is not None else tree.root  # title, meta and base live there: a small search
        title_node = (head.css_first("title") if head is not None else None) or tree.css_first("title")
        title = normalise_text(title_node.text(deep=True)) if title_node is not None else ""
        generator_node = head.css_first('meta[name="generator" i]') if head is not None else None
        generator = (generator_node.attributes.get("content") or "") if generator_node is not None else ""
        anchors, base_href, canonical_href = _markup_refs(tree)
        hrefs = _links(anchors, _base_url(tree, url))
        gate = _gate_facts_of(tree) if want_gate else None
        tree.strip_tags(DROPPED_TAGS)
        root = tree.body if tree.body is not None else tree.root
        text = root.text(deep=True, separator="") if root is not None else ""
        return ParsedDocument(
            text=normalise_text(text),
            title=title[:1000],
            is_html=True,
            html=decoded,
            tree=tree,
            hrefs=hrefs,
            generator=generator.strip()[:200],
            anchors=anchors,
            base_href=base_href,
            canonical_href=canonical_href,
            gate=gate,
        )
    except Exception:  # selectolax is C code: any failure must cost this page's markup, never the crawl
        log.debug("HTML parser failed on %s; falling back to stripped text", url, exc_info=True)
        return _without_parser(decoded, url, want_gate)


def _block_depth(html: str) -> int:
    """The deepest nesting of ``div``-like elements in *html*, counted from its tags (an upper bound)."""
    depth = deepest = 0
    for match in _NESTING_TAG.finditer(html):
        if match.group(1):
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


# The parser-less reading (hostile pages) must stay linear too: no pattern here may scan past where its match
# could end and then be retried from the next "<". A tag is read up to the next "<" or ">" (an "<a" is never
# searched for its href beyond its own tag); tags are only stripped before the last ">" of the page (after it none
# can close); each dropped element's end tag is looked for once, and never again once it is known to be absent.
_TAG = re.compile(r"<[^>]*+>")
_DROPPED_START = re.compile(r"<(script|style|noscript|template)\b", re.IGNORECASE)
_DROPPED_END = {
    name: re.compile(rf"</{name}\s*+>", re.IGNORECASE) for name in ("script", "style", "noscript", "template")
}
_ANCHOR = re.compile(r"<a\s[^<>]*+", re.IGNORECASE)
_HREF = re.compile(r"""href\s*+=\s*+(?:"([^"]*+)"|'([^']*+)'|([^\s>]++))""", re.IGNORECASE)


def _drop_content(html: str) -> str:
    """*html* without the content of its ``script``, ``style``, ``noscript`` and ``template`` elements."""
    kept: list[str] = []
    position = 0
    unclosed: set[str] = set()  # end tags known to be absent from here on
    for match in _DROPPED_START.finditer(html):
        name = match.group(1).lower()
        if match.start() < position or name in unclosed:
            continue
        end = _DROPPED_END[name].search(html, match.end())
        if end is None:
            unclosed.add(name)
            continue
        kept.append(html[position : match.start()])
        kept.append(" ")
        position = end.end()
    kept.append(html[position:])
    return "".join(kept)


def _strip_tags(html: str) -> str:
    cut = html.rfind(">") + 1
    return _TAG.sub(" ", html[:cut]) + html[cut:]


def _without_parser(html: str, url: str | None, want_gate: bool = False) -> ParsedDocument:
    """Text and links of *html* by regular expressions: for pages the parser cannot (or should not) take. Linear
    time (see the patterns above). *want_gate*: the :class:`GateFacts` too, from the parser (the gate's own read
    of a page of at most 512 KB, as before the one-parse change)."""
    text = _strip_tags(_drop_content(html))
    anchors: list[str] = []
    for anchor in _ANCHOR.finditer(html):
        match = _HREF.search(anchor.group(0))
        if match is not None:
            anchors.append(unescape(match.group(1) or match.group(2) or match.group(3) or ""))
    hrefs: dict[str, None] = {}
    for raw in anchors:
        href = raw.strip()
        if href.startswith(("http://", "https://", "/")) or (url and not href.startswith(("javascript:", "#"))):
            try:
                hrefs.setdefault(urljoin(url or "", href).split("#", 1)[0], None)
            except ValueError:
                continue
        if len(hrefs) >= MAX_LINKS:
            break
    return ParsedDocument(
        text=normalise_text(unescape(text)),
        is_html=True,
        html=html,
        hrefs=list(hrefs),
        anchors=anchors,
        gate=gate_facts(html) if want_gate else None,
    )
