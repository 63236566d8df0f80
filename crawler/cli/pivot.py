"""``darkcrawl pivot VALUE``: every site and page where a signal value was seen, with first and last dates.

The value is normalised the way extraction writes it (a fingerprint with spaces, an address in any case where case
does not matter, ``telegram:@name``); without ``--kind`` every reading is tried. Documented in docs/schema.md.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from crawler.errors import UsageError
from pipelines.entities import ENTITY_KINDS


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "pivot",
        help="where else was this address / key / e-mail / handle / vendor seen?",
        description="Every site and page where a signal value was seen, with first and last dates: a crypto "
        "address, a PGP fingerprint (spaces allowed), an e-mail, a handle (network:handle), a vendor name, an onion.",
    )
    parser.add_argument("value", help="the value, e.g. bc1q..., '6E2D 8D5C ...', telegram:@name, \"Night Owl\"")
    parser.add_argument("--kind", choices=ENTITY_KINDS, help="read the value as this kind only")
    parser.add_argument("--limit", type=int, default=100, help="pages listed at most, most recent first (default 100)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON for tools")
    parser.set_defaults(handler=run)


def fetch(settings: Any, readings: dict[str, tuple[str, str]], limit: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sightings search response and the stored entity documents by id. Raises ServiceError (one line)."""
    from elasticsearch import ApiError, NotFoundError, TransportError

    from crawler.errors import ServiceError
    from crawler.es.client import client_url, es_sync_client, service_error
    from crawler.es.schema import index_names
    from crawler.pivot import sightings_query

    names = index_names(settings)
    client = es_sync_client(settings)
    ids = list(readings)
    try:
        response = dict(client.search(index=names.sightings, **sightings_query(ids, limit)))
        stored = client.mget(index=names.entities, ids=ids)
        entities = {doc["_id"]: doc["_source"] for doc in stored["docs"] if doc.get("found")}
        return response, entities
    except NotFoundError:
        raise ServiceError(
            f"no index {names.sightings} yet: run darkcrawl es init and crawl something first"
        ) from None
    except (ApiError, TransportError) as exc:
        raise service_error(exc, client_url(client)) from None
    finally:
        client.close()


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
    print(json.dumps(result, indent=2) if args.json else format_pivot(result))
    return 0
