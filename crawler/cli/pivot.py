"""``darkcrawl pivot VALUE``: every site and page where a signal value was seen, with first and last dates.

The value is normalised the way extraction writes it (a fingerprint with spaces, an address in any case where case
does not matter, ``telegram:@name``); without ``--kind`` every reading is tried. Documented in docs/schema.md.
"""

from __future__ import annotations

import argparse
from typing import Any

from crawler.cli.common import add_command, add_json_option, es_session, print_answer
from crawler.errors import UsageError
from pipelines.entities import ENTITY_KINDS


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "pivot",
        run,
        help="where else was this address / key / e-mail / handle / vendor seen?",
        description="Every site and page where a signal value was seen, with first and last dates: a crypto "
        "address, a PGP fingerprint (spaces allowed), an e-mail, a handle (network:handle), a vendor name, an onion.",
    )
    parser.add_argument("value", help="the value, e.g. bc1q..., '6E2D 8D5C ...', telegram:@name, \"Night Owl\"")
    parser.add_argument("--kind", choices=ENTITY_KINDS, help="read the value as this kind only")
    parser.add_argument("--limit", type=int, default=100, help="pages listed at most, most recent first (default 100)")
    add_json_option(parser, "print the answer as JSON for tools")


def fetch(settings: Any, readings: dict[str, tuple[str, str]], limit: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sightings search response and the stored entity documents by id. Raises ServiceError (one line)."""
    from crawler.es.schema import index_names
    from crawler.pivot import sightings_query

    names = index_names(settings)
    ids = list(readings)
    missing = f"no index {names.sightings} yet: run darkcrawl es init and crawl something first"
    with es_session(settings, missing) as client:
        response = dict(client.search(index=names.sightings, **sightings_query(ids, limit)))
        stored = client.mget(index=names.entities, ids=ids)
    entities = {doc["_id"]: doc["_source"] for doc in stored["docs"] if doc.get("found")}
    return response, entities


def run(args: argparse.Namespace, settings: Any) -> int:
    from crawler.pivot import format_pivot, pivot_ids, pivot_result

    if args.limit < 0 or args.limit > 10_000:
        raise UsageError(f"--limit {args.limit}: give 0 to 10000 pages")
    readings = pivot_ids(args.value, args.kind)
    if not readings:
        what = f"a {args.kind}" if args.kind else "a value darkcrawl extracts"
        raise UsageError(f"{args.value!r} is not {what}: give an address, a fingerprint, an e-mail, network:handle, "
                         "a vendor name or an onion")
    response, entities = fetch(settings, readings, args.limit)
    result = pivot_result(args.value, readings, response, entities)
    print_answer(args.json, result, lambda: format_pivot(result))
    return 0
