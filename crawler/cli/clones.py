"""``darkcrawl clones SITE``: the sites whose pages are near-copies of SITE's (phishing clones, scam mirrors), with
the payment addresses that differ. The comparison is the clone watch's (docs/watch.md, "clone")."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, es_session, print_answer

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    from crawler.watch.clone import DEFAULT_MAX_DISTANCE

    parser = add_command(
        subparsers,
        "clones",
        run,
        help="sites whose pages are near-copies of a site's (phishing clones, mirrors)",
        description="Compare every indexed page of the other sites with SITE's pages (SimHash of the text, what a "
        "clone swaps taken out) and list the sites that copy it, with the payment addresses that differ.",
    )
    parser.add_argument("site", help="the onion (host or a URL on it) whose clones to find")
    parser.add_argument("--max-distance", type=int, default=DEFAULT_MAX_DISTANCE, metavar="BITS",
                        help=f"largest SimHash distance of a copy, in bits (default {DEFAULT_MAX_DISTANCE})")
    add_json_option(parser, "print the clones as JSON for tools")


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.clones import find_clones, format_clones
    from crawler.es.schema import index_names
    from crawler.watch.clone import clone_spec

    spec = clone_spec(args.site, args.max_distance)  # the same checks as a clone watch's (one line, exit 2)
    names = index_names(settings)
    missing = f"no index {names.pages} yet: run darkcrawl es init and crawl something first"
    with es_session(settings, missing) as client:
        result = find_clones(client, names, spec["site"], spec["max_distance"])
    print_answer(args.json, result, lambda: format_clones(result))
    return 0
