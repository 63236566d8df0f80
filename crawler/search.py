"""Searching the pages index: the query darkcrawl sends and how a hit is shown. Pure functions; the CLI does the I/O.

Offers: :class:`SearchFilters`, :func:`build_search`, :func:`format_hit`, :func:`hit_summary`,
:data:`ENTITY_KIND_FIELDS` (the page field that holds each entity kind).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from crawler.cli.common import printable

# Fields searched, with weights: a title match beats a body match.
SEARCH_FIELDS = ["title^3", "text", "url"]
HIGHLIGHT_FIELDS = ("text", "title")
# Entity kind (pipelines/entities.py) -> the page field that holds its values: --entity-kind keeps pages having one.
ENTITY_KIND_FIELDS = {
    "crypto_address": "signals.crypto_addresses.address",
    "pgp_fingerprint": "signals.pgp_keys.fingerprint",
    "email": "signals.emails",
    "handle": "signals.handles.handle",
    "vendor": "signals.vendors.name.keyword",
    "onion": "signals.onions",
}


@dataclass
class SearchFilters:
    site: str | None = None
    language: str | None = None
    since: str | None = None  # an Elasticsearch date or date math: "2026-11-01", "now-7d"
    entity_kind: str | None = None  # pages showing at least one value of this kind (ENTITY_KIND_FIELDS)
    category: str | None = None  # pages with a watch-list hit of this category (drugs, weapons, fraud ...)
    crawl_id: str | None = None  # pages whose last sighting was by this crawl


def build_search(text: str, filters: SearchFilters | None = None, size: int = 10) -> dict[str, Any]:
    """Return the search request body: a ``simple_query_string`` over title/text/url, filtered, highlighted."""
    filters = filters or SearchFilters()
    must: list[dict[str, Any]] = []
    if text.strip():
        must.append(
            {"simple_query_string": {"query": text, "fields": SEARCH_FIELDS, "default_operator": "and"}}
        )
    else:
        must.append({"match_all": {}})
    conditions: list[dict[str, Any]] = []
    if filters.site:
        conditions.append({"term": {"site": filters.site.lower()}})
    if filters.language:
        conditions.append({"term": {"language": filters.language.lower()}})
    if filters.since:
        conditions.append({"range": {"last_seen": {"gte": filters.since}}})
    if filters.crawl_id:
        conditions.append({"term": {"crawl_id": filters.crawl_id}})
    if filters.entity_kind:
        conditions.append({"exists": {"field": ENTITY_KIND_FIELDS[filters.entity_kind]}})
    if filters.category:
        conditions.append({"nested": {"path": "signals.keywords",
                                      "query": {"terms": {"signals.keywords.category": sorted(
                                          {filters.category, filters.category.lower()})}}}})
    return {
        "query": {"bool": {"must": must, "filter": conditions}},
        "size": size,
        "_source": ["url", "title", "site", "language", "last_seen", "status"],
        "highlight": {
            "fields": {name: {"fragment_size": 160, "number_of_fragments": 1} for name in HIGHLIGHT_FIELDS},
            # plain markers around HTML-escaped text: a page's own "<em>" or ESC cannot pass for a marker
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "encoder": "html",
        },
    }


TAG_RE = re.compile(r"(</?em>)")
BOLD, RESET = "\x1b[1m", "\x1b[0m"


def highlight_text(fragment: str, color: bool = False) -> str:
    """A highlight fragment (HTML-escaped, ``<em>`` around matches) as one line of plain text, control characters
    removed; matches in bold when *color*, else unmarked."""
    pieces = []
    for piece in TAG_RE.split(fragment):
        if piece in ("<em>", "</em>"):
            pieces.append((BOLD if piece == "<em>" else RESET) if color else "")
        else:
            pieces.append(printable(html.unescape(piece)))
    return "".join(pieces)


def hit_summary(hit: dict[str, Any], plain: bool = False) -> dict[str, Any]:
    """A hit as the JSON that ``darkcrawl search --json`` prints: url, title, site, language, last_seen, highlight
    (plain text, no markers, no control characters)."""
    source = hit.get("_source", {})
    fragments = hit.get("highlight", {}).get("text") or hit.get("highlight", {}).get("title") or []
    highlight = " ... ".join(highlight_text(fragment, color=not plain) for fragment in fragments)
    return {
        "url": source.get("url"),
        "title": source.get("title", ""),
        "site": source.get("site"),
        "language": source.get("language"),
        "last_seen": source.get("last_seen"),
        "score": hit.get("_score"),
        "highlight": highlight,
    }


def format_hit(rank: int, hit: dict[str, Any], color: bool = True) -> str:
    """Three lines for a terminal: rank and title, URL and dates, the highlighted fragment."""
    summary = hit_summary(hit, plain=not color)
    title = printable(summary["title"] or "(no title)")
    lines = [
        f"{rank:>2}. {title}",
        f"    {printable(str(summary['url']))}  [{printable(str(summary['language'] or '?'))}] last seen "
        f"{printable(str(summary['last_seen']))}",
    ]
    if summary["highlight"]:
        lines.append("    " + " ".join(summary["highlight"].split()))
    return "\n".join(lines)
