"""``darkcrawl search``: the best matching pages from the index, for people (highlighted) or tools (``--json``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from crawler.cli.common import add_command, add_json_option, es_session, print_answer, printable
from crawler.search import ENTITY_KIND_FIELDS, SearchFilters, build_search, format_hit, hit_summary


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "search",
        run,
        help="search the indexed pages",
        description="Full-text search over indexed pages (title, text, URL); simple query syntax: "
        '"exact phrase", -exclude, a|b, prefix*.',
    )
    parser.add_argument("query", help='what to look for, e.g. "escrow bitcoin" or vendor -review')
    parser.add_argument("--site", help="only pages of this site (onion hostname)")
    parser.add_argument("--lang", help="only pages in this language (ISO 639-1 code: en, fr, nl, de ...)")
    parser.add_argument("--since", help="only pages seen since this date (2026-11-01, now-7d)")
    parser.add_argument("--entity-kind", choices=sorted(ENTITY_KIND_FIELDS),
                        help="only pages showing at least one value of this kind (e.g. crypto_address)")
    parser.add_argument("--category", help="only pages with a watch-list hit of this category (drugs, fraud ...)")
    parser.add_argument("--crawl", metavar="CRAWL_ID",
                        help="only pages last seen by this crawl (its id: crawl --json, darkcrawl status)")
    parser.add_argument("-n", "--size", type=int, default=10, help="how many results (default 10)")
    add_json_option(parser, "print results as JSON for tools")


def search_pages(settings: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Run the search against the pages alias; raises ServiceError (one line) when Elasticsearch fails."""
    from crawler.es.schema import index_names

    alias = index_names(settings).pages
    missing = f"no index {alias} yet: crawl something first (darkcrawl demo, darkcrawl crawl)"
    with es_session(settings, missing) as client:
        return dict(client.search(index=alias, **body))


def run(args: argparse.Namespace, settings: Any) -> int:
    filters = SearchFilters(args.site, args.lang, args.since, args.entity_kind, args.category, args.crawl)
    body = build_search(args.query, filters, size=args.size)
    response = search_pages(settings, body)
    hits = response["hits"]["hits"]
    total = response["hits"]["total"]["value"]
    answer = {"total": total, "hits": [hit_summary(hit, plain=True) for hit in hits]}
    print_answer(args.json, answer, lambda: text_lines(args.query, total, hits), styled=True)
    return 0


def text_lines(query: str, total: int, hits: list[dict[str, Any]]) -> list[str]:
    """The answer for people: a count, then each hit highlighted (in colour on a terminal)."""
    color = sys.stdout.isatty()
    lines = [f"{total} page(s) match {printable(query)!r}" + (f", showing {len(hits)}" if total > len(hits) else "")]
    return lines + [format_hit(rank, hit, color=color) for rank, hit in enumerate(hits, start=1)]
