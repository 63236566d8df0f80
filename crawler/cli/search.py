"""``darkcrawl search``: the best matching pages from the index, for people (highlighted) or tools (``--json``)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, add_limit_option, es_session, print_answer
from crawler.cli.dates import ACCEPTED, iso_utc, parse_since
from crawler.search import (
    ENTITY_KIND_FIELDS,
    SORTS,
    SearchFilters,
    build_search,
    format_hit,
    hit_summary,
    site_titles,
    site_titles_request,
)
from crawler.terminal import printable

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "search",
        run,
        help="search the indexed pages",
        description="Full-text search over indexed pages (title, text, URL), in English, French, Dutch and German "
        "(plural and accent forms match); simple query syntax: \"exact phrase\", -exclude, a|b, prefix*. "
        f"Dates ({ACCEPTED}) are UTC.",
    )
    parser.add_argument("query", help='what to look for, e.g. "escrow bitcoin" or vendor -review')
    parser.add_argument("--site", help="only pages of this site (onion hostname)")
    parser.add_argument("--lang", help="only pages in this language (ISO 639-1 code: en, fr, nl, de ...)")
    parser.add_argument("--since", metavar="DATE", help="only pages seen since then (24h, 7d, yesterday, 2026-11-01)")
    parser.add_argument("--new-since", metavar="DATE", help="only pages first seen since then (new pages)")
    parser.add_argument("--changed-since", metavar="DATE",
                        help="only pages known before then whose text changed since (with --new-since: either)")
    parser.add_argument("--sort", choices=SORTS, default="relevance",
                        help="relevance (default) or date: newest first (first seen with --new-since, changed with "
                        "--changed-since, else last seen)")
    parser.add_argument("--kind", "--entity-kind", dest="entity_kind", choices=sorted(ENTITY_KIND_FIELDS),
                        help="only pages showing at least one value of this kind (e.g. crypto_address)")
    parser.add_argument("--category", help="only pages with a watch-list hit of this category (drugs, fraud ...)")
    parser.add_argument("--crawl", metavar="CRAWL_ID",
                        help="only pages last seen by this crawl (its id: crawl --json, darkcrawl status)")
    add_limit_option(parser, default=10, what="results (0: only count them)")
    add_json_option(parser, "print results as JSON for tools (each hit with the page's signals)")


def search_pages(settings: BaseSettings, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Run the search against the pages alias, then look up the title of each site in the hits. Raises
    ServiceError (one line) when Elasticsearch fails."""
    from crawler.es.schema import index_names

    alias = index_names(settings).pages
    missing = f"no index {alias} yet: crawl something first (darkcrawl demo, darkcrawl crawl)"
    with es_session(settings, missing) as client:
        response = dict(client.search(index=alias, **body))
        sites = sorted({hit["_source"]["site"] for hit in response["hits"]["hits"] if hit["_source"].get("site")})
        titles = site_titles(dict(client.search(index=alias, **site_titles_request(sites)))) if sites else {}
    return response, titles


def filters_from(args: argparse.Namespace) -> SearchFilters:
    """The filters of the command line, dates checked and made absolute. Raises UsageError naming the option."""
    dates = {option: iso_utc(parse_since(value, option)) if value is not None else None
             for option, value in (("--since", args.since), ("--new-since", args.new_since),
                                   ("--changed-since", args.changed_since))}
    return SearchFilters(args.site, args.lang, dates["--since"], args.entity_kind, args.category, args.crawl,
                         dates["--new-since"], dates["--changed-since"])


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    filters = filters_from(args)
    body = build_search(args.query, filters, size=args.limit, sort=args.sort)
    response, titles = search_pages(settings, body)
    hits = response["hits"]["hits"]
    total = response["hits"]["total"]["value"]
    answer = {"total": total, "hits": [hit_summary(hit, plain=True, titles=titles) for hit in hits]}
    print_answer(args.json, answer, lambda: text_lines(args.query, total, hits, titles), styled=True)
    return 0


def text_lines(query: str, total: int, hits: list[dict[str, Any]], titles: dict[str, str]) -> list[str]:
    """The answer for people: a count, then each hit highlighted (in colour on a terminal)."""
    color = sys.stdout.isatty()
    lines = [f"{total} page(s) match {printable(query)!r}" + (f", showing {len(hits)}" if total > len(hits) else "")]
    return lines + [format_hit(rank, hit, color=color, titles=titles) for rank, hit in enumerate(hits, start=1)]
