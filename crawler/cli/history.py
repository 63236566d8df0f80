"""``darkcrawl history URL``: the versions of a page (each run of identical content, with its dates), and with
``--at DATE`` what the page said then. The versions index is in docs/schema.md; WARC captures: ``evidence --at``.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, add_limit_option, es_session, print_answer

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "history",
        run,
        help="the versions of a page, or what it said on a date",
        description="List the versions of an indexed page (a new one each time its content changed), or print the "
        "text it showed at a date (--at).",
    )
    parser.add_argument("url", help="the page's URL, exactly as indexed (darkcrawl search shows it)")
    parser.add_argument("--at", metavar="DATE", help="print what the page said then: 2026-11-20 (the end of that "
                        "day), 2026-11-20T08:00:00Z, yesterday, 24h (ago)")
    add_limit_option(parser, default=50, what="versions listed, newest first,")
    add_json_option(parser, "print the answer as JSON for tools")


def moment(text: str, option: str) -> str:
    """The instant *text* names for *option*, as ISO 8601 UTC; a bare date means the end of that day (what the page
    said on that date is what it said last that day)."""
    from crawler.cli.dates import iso_utc, parse_since

    instant = parse_since(text, option)
    if len(text.strip()) == 10:  # YYYY-MM-DD
        instant += timedelta(days=1, seconds=-1)
    return iso_utc(instant)


def version_at(client: Any, versions: str, url: str, at: str) -> dict[str, Any]:
    """The answer of :func:`crawler.history.history_result` for *url* at *at*, read through the versions alias."""
    from crawler.history import history_result, version_at_query

    return history_result(url, dict(client.search(index=versions, **version_at_query(url, at))), at)


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.es.schema import index_names
    from crawler.history import format_history, history_result, versions_query

    names = index_names(settings)
    at = moment(args.at, "--at") if args.at else None
    missing = f"no index {names.versions} yet: run darkcrawl es init and crawl something first"
    with es_session(settings, missing) as client:
        if at is not None:
            result = version_at(client, names.versions, args.url, at)
        else:
            result = history_result(args.url, dict(client.search(index=names.versions,
                                                                 **versions_query(args.url, args.limit))))
    print_answer(args.json, result, lambda: format_history(result))
    return 0
