"""``darkcrawl profile VALUE``: everything seen with a vendor, address, key, e-mail or handle: its sites, pages and
dates (as ``pivot``) and the entities seen on the same pages. Documented in docs/schema.md (Entities) and the README.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, add_limit_option, es_session, print_answer
from crawler.cli.pivot import check_value, fetch, missing_index, readings_of
from crawler.sink.entities import ENTITY_KINDS

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "profile",
        run,
        help="everything seen with a vendor / address / key / e-mail / handle",
        description="The sites, pages and dates of a signal value (as pivot), and every other entity seen on the "
        "same pages: the addresses, keys, handles and vendors that go with it, by how many pages they share.",
    )
    parser.add_argument("value", help="the value, in any spelling pivot accepts (a key id, a t.me/ link, ...)")
    parser.add_argument("--kind", choices=ENTITY_KINDS, help="read the value as this kind only")
    add_limit_option(parser, default=20, what="pages listed")
    add_json_option(parser, "print the profile as JSON for tools")


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.es.schema import index_names
    from crawler.pivot import pivot_result
    from crawler.profile import co_occurrence_query, co_occurring, format_profile, profile_pages_query

    check_value(args.value, args.kind)
    names = index_names(settings)
    with es_session(settings, missing_index(names)) as client:
        readings = readings_of(client, names, args.value, args.kind)
        response, entities = fetch(client, names, readings, args.limit)
        result = pivot_result(args.value, readings, response, entities)
        found = [entity_id for entity_id in readings if entity_id in {
            bucket["key"] for bucket in response["aggregations"]["entities"]["buckets"]}]
        seen_with: dict[str, Any] = {}
        if found:
            pages = client.search(index=names.sightings, **profile_pages_query(found))
            urls = [bucket["key"] for bucket in pages["aggregations"]["pages"]["buckets"]]
            others = dict(client.search(index=names.sightings, **co_occurrence_query(found, urls)))
            ids = [bucket["key"] for kind in others["aggregations"]["kinds"]["buckets"]
                   for bucket in kind["entities"]["buckets"]]
            stored = client.mget(index=names.entities, ids=ids)["docs"] if ids else []
            seen_with = co_occurring(others, {doc["_id"]: doc["_source"] for doc in stored if doc.get("found")})
    result["seen_with"] = seen_with
    print_answer(args.json, result, lambda: format_profile(result))
    return 0
