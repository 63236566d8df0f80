"""Searching the pages index: the query darkcrawl sends and how a hit is shown. Pure functions; the CLI does the I/O.
Documented in the README (``darkcrawl search``) and docs/schema.md (Language analysis).

Offers: :class:`SearchFilters`, :func:`build_search`, :func:`site_titles_request`, :func:`site_titles`,
:func:`signals_brief`, :func:`format_hit`, :func:`hit_summary`, :data:`ENTITY_KIND_FIELDS` (the page field that holds
each entity kind), :data:`SORTS`.

Ranking: a page must match the query in its title, text or URL, as written, accent-folded, or stemmed in any of the
four languages (recall, weighed little); it is ranked by the words as written or folded (title first) and by the stems
of its own detected language, so a Dutch query ranks the Dutch page above an English one that only a French stemming
accident matched. On a cluster without the analysis plugin the sub-fields do not exist and the query falls back to
title, text and URL (Elasticsearch ignores the missing fields).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from crawler.es.templates import FOLDED_SUBFIELD, LANGUAGE_SUBFIELDS
from crawler.terminal import printable

# What a page must match, in one of these fields: the words as written, accent-folded, or stemmed in any of the four
# languages (so a French page whose language detection failed is still found by its stems).
SEARCH_FIELDS = [
    "title^3", f"title.{FOLDED_SUBFIELD}^3", *(f"title.{name}^3" for name in LANGUAGE_SUBFIELDS.values()),
    "text", f"text.{FOLDED_SUBFIELD}", *(f"text.{name}" for name in LANGUAGE_SUBFIELDS.values()),
    "url",
]
# What ranks it: the words as written or folded (any language), and its own language's stems. A match by another
# language's stemmer alone (the French light stemmer makes "paspoort" of "passports") weighs RECALL_WEIGHT only.
EXACT_FIELDS = ["title^3", f"title.{FOLDED_SUBFIELD}^3", "text", f"text.{FOLDED_SUBFIELD}", "url"]
RECALL_WEIGHT = 0.1
TEXT_FIELDS = ("text", "title")
SUBFIELDS = (FOLDED_SUBFIELD, *LANGUAGE_SUBFIELDS.values())
SORTS = ("relevance", "date")
SIGNAL_KINDS = ("crypto_addresses", "pgp_keys", "emails", "handles", "vendors", "onions", "keywords")
# Entity kind (crawler/sink/entities.py) -> the page field that holds its values: --entity-kind keeps pages having one.
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
    since: str | None = None  # last seen on or after this ISO date-time (crawler.cli.dates)
    entity_kind: str | None = None  # pages showing at least one value of this kind (ENTITY_KIND_FIELDS)
    category: str | None = None  # pages with a watch-list hit of this category (drugs, weapons, fraud ...)
    crawl_id: str | None = None  # pages whose last sighting was by this crawl
    new_since: str | None = None  # first seen on or after this date-time
    changed_since: str | None = None  # seen before it, text changed on or after it

    def date_field(self) -> str:
        """The date ``--sort date`` orders by: the one the filters ask about. Text changed (set on a page's first
        fetch too, so it also orders new pages) with --changed-since, first seen with --new-since, else last seen."""
        if self.changed_since:
            return "content_changed_at"
        return "first_seen" if self.new_since else "last_seen"


def _text_query(text: str, fields: list[str], boost: float = 1.0) -> dict[str, Any]:
    query: dict[str, Any] = {"query": text, "fields": fields, "default_operator": "and"}
    if boost != 1.0:
        query["boost"] = boost
    return {"simple_query_string": query}


def _novelty(filters: SearchFilters) -> list[dict[str, Any]]:
    """``--new-since`` (first seen since) and ``--changed-since`` (known before, text changed since); both given:
    either one."""
    either: list[dict[str, Any]] = []
    if filters.new_since:
        either.append({"range": {"first_seen": {"gte": filters.new_since}}})
    if filters.changed_since:
        either.append({"bool": {"filter": [{"range": {"content_changed_at": {"gte": filters.changed_since}}},
                                           {"range": {"first_seen": {"lt": filters.changed_since}}}]}})
    if len(either) > 1:
        return [{"bool": {"should": either, "minimum_should_match": 1}}]
    return either


def build_search(text: str, filters: SearchFilters | None = None, size: int = 10,
                 sort: str = "relevance") -> dict[str, Any]:
    """Return the search request body: pages matching the query in title, text (as written, folded or stemmed in
    any language) or URL, ranked by the words as written or folded and by their own language's stems; filtered,
    highlighted, sorted."""
    filters = filters or SearchFilters()
    must: list[dict[str, Any]] = []
    should: list[dict[str, Any]] = []
    if text.strip():
        must.append(_text_query(text, SEARCH_FIELDS, RECALL_WEIGHT))
        should.append(_text_query(text, EXACT_FIELDS))
        for code, name in LANGUAGE_SUBFIELDS.items():
            should.append({"bool": {"filter": [{"term": {"language": code}}],
                                    "must": [_text_query(text, [f"title.{name}^3", f"text.{name}"])]}})
    else:
        must.append({"match_all": {}})
    conditions: list[dict[str, Any]] = []
    if filters.site:
        conditions.append({"term": {"site": filters.site.lower()}})
    if filters.language:
        conditions.append({"term": {"language": filters.language.lower()}})
    if filters.since:
        conditions.append({"range": {"last_seen": {"gte": filters.since}}})
    conditions += _novelty(filters)
    if filters.crawl_id:
        conditions.append({"term": {"crawl_id": filters.crawl_id}})
    if filters.entity_kind:
        conditions.append({"exists": {"field": ENTITY_KIND_FIELDS[filters.entity_kind]}})
    if filters.category:
        conditions.append({"nested": {"path": "signals.keywords",
                                      "query": {"terms": {"signals.keywords.category": sorted(
                                          {filters.category, filters.category.lower()})}}}})
    query: dict[str, Any] = {"must": must, "filter": conditions}
    if should:
        query["should"] = should
    body: dict[str, Any] = {
        "query": {"bool": query},
        "size": size,
        "track_total_hits": True,
        "_source": {"includes": ["url", "title", "site", "language", "first_seen", "last_seen", "content_changed_at",
                                 "status", "signals"],
                    "excludes": ["signals.links", "signals.title", "signals.crypto_addresses.context"]},
        "highlight": {
            # The unified highlighter marks what matched in any sub-field (a stem, a folded word) in the text itself.
            "fields": {name: {"fragment_size": 160, "number_of_fragments": 1,
                              "matched_fields": [name, *(f"{name}.{sub}" for sub in SUBFIELDS)]}
                       for name in TEXT_FIELDS},
            # plain markers around HTML-escaped text: a page's own "<em>" or ESC cannot pass for a marker
            "pre_tags": ["<em>"],
            "post_tags": ["</em>"],
            "encoder": "html",
        },
    }
    if sort == "date":
        body["sort"] = [{filters.date_field(): {"order": "desc", "missing": "_last"}}, "_score"]
    return body


def site_titles_request(sites: list[str]) -> dict[str, Any]:
    """The search that finds each site's title: its shallowest page (the seed, usually the home page) with a title,
    one per site (terms aggregation, top hit by depth then first sight)."""
    return {
        "size": 0,
        "query": {"bool": {"filter": [{"terms": {"site": sites}}, {"exists": {"field": "title.keyword"}}]}},
        "aggs": {"sites": {"terms": {"field": "site", "size": max(len(sites), 1)},
                           "aggs": {"home": {"top_hits": {"size": 1, "_source": ["title", "url"],
                                                          "sort": [{"depth": {"order": "asc", "missing": "_last"}},
                                                                   {"first_seen": {"order": "asc"}}]}}}}},
    }


def site_titles(response: dict[str, Any]) -> dict[str, str]:
    """Site -> title, from the answer to :func:`site_titles_request`."""
    titles: dict[str, str] = {}
    for bucket in response.get("aggregations", {}).get("sites", {}).get("buckets", []):
        hits = bucket["home"]["hits"]["hits"]
        if hits and hits[0]["_source"].get("title"):
            titles[bucket["key"]] = hits[0]["_source"]["title"]
    return titles


def _values(signals: dict[str, Any], kind: str) -> list[str]:
    """The values of one kind of signal as an analyst names them (address, fingerprint, network:handle ...)."""
    items = signals.get(kind) or []
    if kind == "crypto_addresses":
        return [f"{item.get('currency', '?')} {item.get('address', '')}" for item in items]
    if kind == "pgp_keys":
        return [str(item.get("fingerprint", "")) for item in items]
    if kind == "handles":
        return [f"{item.get('network', '?')}:{item.get('handle', '')}" for item in items]
    if kind == "vendors":
        return [str(item.get("name", "")) for item in items]
    if kind == "keywords":
        return [f"{item.get('category', '?')}:{item.get('term', '')}" for item in items]
    return [str(item) for item in items]


def signals_brief(signals: dict[str, Any] | None, top: int = 2) -> str:
    """One line of a page's signals: count per kind and its first values, e.g. ``2 crypto_addresses (BTC bc1q...),
    1 vendors (NightOwl), keywords drugs:3``; empty when it has none."""
    signals = signals or {}
    parts: list[str] = []
    for kind in SIGNAL_KINDS:
        values = _values(signals, kind)
        if not values:
            continue
        if kind == "keywords":
            categories = Counter(value.split(":", 1)[0] for value in values)
            parts.append("keywords " + ", ".join(f"{name}:{count}" for name, count in categories.most_common(top + 1)))
            continue
        shown = ", ".join(_shorten(value) for value in values[:top]) + (", ..." if len(values) > top else "")
        parts.append(f"{len(values)} {kind} ({shown})")
    return "; ".join(parts)


def _shorten(value: str, width: int = 20) -> str:
    """A long address or fingerprint as its start and end (``bc1qar0srr...wf5mdq``); a currency prefix stays."""
    prefix, _, token = value.rpartition(" ")
    if len(token) > width:
        token = f"{token[:12]}...onion" if token.endswith(".onion") else f"{token[:10]}...{token[-6:]}"
    return f"{prefix} {token}" if prefix else token


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


def hit_summary(hit: dict[str, Any], plain: bool = False, titles: dict[str, str] | None = None) -> dict[str, Any]:
    """A hit as the JSON that ``darkcrawl search --json`` prints: url, title, site and its title, language, dates,
    score, highlight (plain text, no markers, no control characters) and the page's signals (without links and
    address contexts)."""
    source = hit.get("_source", {})
    fragments = hit.get("highlight", {}).get("text") or hit.get("highlight", {}).get("title") or []
    highlight = " ... ".join(highlight_text(fragment, color=not plain) for fragment in fragments)
    return {
        "url": source.get("url"),
        "title": source.get("title", ""),
        "site": source.get("site"),
        "site_title": (titles or {}).get(source.get("site") or ""),
        "language": source.get("language"),
        "first_seen": source.get("first_seen"),
        "last_seen": source.get("last_seen"),
        "content_changed_at": source.get("content_changed_at"),
        "score": hit.get("_score"),
        "highlight": highlight,
        "signals": source.get("signals") or {},
    }


def format_hit(rank: int, hit: dict[str, Any], color: bool = True, titles: dict[str, str] | None = None) -> str:
    """A few lines for a terminal: rank and title, site and its title, URL and dates, the signals in brief, the
    highlighted fragment; whatever a page wrote passes through :func:`printable` (no control characters)."""
    summary = hit_summary(hit, plain=not color, titles=titles)
    title = printable(summary["title"] or "(no title)")
    site = printable(str(summary["site"] or "?"))
    lines = [
        f"{rank:>2}. {title}",
        f"    site: {site}" + (f" ({printable(summary['site_title'])})" if summary["site_title"] else ""),
        f"    {printable(str(summary['url']))}  [{printable(str(summary['language'] or '?'))}] first seen "
        f"{printable(str(summary['first_seen']))}, last seen {printable(str(summary['last_seen']))}",
    ]
    brief = printable(signals_brief(summary["signals"]))
    if brief:
        lines.append(f"    signals: {brief}")
    if summary["highlight"]:
        lines.append("    " + " ".join(summary["highlight"].split()))
    return "\n".join(lines)
