"""``darkcrawl entities``: the signal values seen on several sites (``--min-sites``), the ones worth a pivot: an
address or key shared by two markets, a vendor name on three forums. Documented in docs/schema.md (Entities).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, add_limit_option, es_session, print_answer
from crawler.errors import UsageError
from crawler.sink.entities import ENTITY_KINDS

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    from crawler.profile import SORTS

    parser = add_command(
        subparsers,
        "entities",
        run,
        help="addresses, keys, e-mails, handles, vendors, onions seen on several sites",
        description="The entities (signal values) seen on at least --min-sites sites, most sites first: what links "
        "one site to another.",
    )
    parser.add_argument("--min-sites", type=int, default=2, help="seen on at least this many sites (default 2)")
    parser.add_argument("--kind", choices=ENTITY_KINDS, help="only entities of this kind")
    parser.add_argument("--sort", choices=sorted(SORTS), default="sites",
                        help="most sites first (default), most pages first, or most recently seen first")
    add_limit_option(parser, default=50, what="entities listed")
    add_json_option(parser, "print the entities as JSON for tools")


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.es.schema import index_names
    from crawler.profile import entities_query, entities_result, format_entities

    if args.min_sites < 1:
        raise UsageError(f"--min-sites {args.min_sites}: give 1 or more")
    names = index_names(settings)
    missing = f"no index {names.entities} yet: run darkcrawl es init and crawl something first"
    with es_session(settings, missing) as client:
        response = dict(client.search(index=names.entities,
                                      **entities_query(args.min_sites, args.kind, args.limit, args.sort)))
    result = entities_result(response, args.min_sites, args.kind)
    print_answer(args.json, result, lambda: format_entities(result))
    return 0
