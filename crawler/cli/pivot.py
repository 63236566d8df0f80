"""``darkcrawl pivot VALUE``: every site and page where a signal value was seen, with first and last dates.

The value is normalised the way extraction writes it (a fingerprint with spaces, an address in any case where case
does not matter, ``telegram:@name``); without ``--kind`` every reading is tried. Documented in docs/schema.md.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crawler.cli.common import add_command, add_json_option, add_limit_option, es_session, print_answer
from crawler.errors import UsageError
from crawler.sink.entities import ENTITY_KINDS, PGP

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "pivot",
        run,
        help="where else was this address / key / e-mail / handle / vendor seen?",
        description="Every site and page where a signal value was seen, with first and last dates: a crypto "
        "address, a PGP fingerprint (spaces allowed), an e-mail, a handle (network:handle), a vendor name, an onion.",
    )
    parser.add_argument("value", help="the value, e.g. bc1q..., '6E2D 8D5C ...', a key id 0x92A3B4C5, telegram:@name, "
                        "t.me/name, mailto:a@b, \"Night Owl\"")
    parser.add_argument("--kind", choices=ENTITY_KINDS, help="read the value as this kind only")
    add_limit_option(parser, default=100, what="pages listed, most recent first,")
    add_json_option(parser, "print the answer as JSON for tools")


def readings_of(client: Any, names: Any, value: str, kind: str | None) -> dict[str, tuple[str, str]]:
    """Every entity *value* may be (:func:`crawler.pivot.pivot_ids`), plus, for a PGP key id, the fingerprints in
    the entities index it is the key id of."""
    from crawler.pivot import key_id_query, key_id_readings, pivot_ids
    from crawler.sink.entities import key_id

    readings = pivot_ids(value, kind)
    spelled = key_id(value) if kind in (None, PGP) else None
    if spelled:
        readings |= key_id_readings(spelled, dict(client.search(index=names.entities, **key_id_query(spelled))))
    return readings


def check_value(value: str, kind: str | None) -> None:
    """Raise :class:`UsageError` when *value* cannot be any entity (of *kind*), before asking Elasticsearch."""
    from crawler.pivot import pivot_ids
    from crawler.sink.entities import key_id

    if pivot_ids(value, kind) or (kind in (None, PGP) and key_id(value)):
        return
    what = f"a {kind}" if kind else "a value darkcrawl extracts"
    raise UsageError(f"{value!r} is not {what}: give an address, a fingerprint or key id, an e-mail, network:handle "
                     "(or a t.me/ link), a vendor name or an onion")


def fetch(
    client: Any, names: Any, readings: dict[str, tuple[str, str]], limit: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sightings search response for *readings* and the stored entity documents by id."""
    from crawler.pivot import sightings_query

    ids = list(readings)
    if not ids:
        return {"hits": {"hits": []}, "aggregations": {"entities": {"buckets": []}}}, {}
    response = dict(client.search(index=names.sightings, **sightings_query(ids, limit)))
    stored = client.mget(index=names.entities, ids=ids)
    return response, {doc["_id"]: doc["_source"] for doc in stored["docs"] if doc.get("found")}


def missing_index(names: Any) -> str:
    return f"no index {names.sightings} yet: run darkcrawl es init and crawl something first"


def run(args: argparse.Namespace, settings: BaseSettings) -> int:
    from crawler.es.schema import index_names
    from crawler.pivot import format_pivot, pivot_result

    check_value(args.value, args.kind)
    names = index_names(settings)
    with es_session(settings, missing_index(names)) as client:
        readings = readings_of(client, names, args.value, args.kind)
        response, entities = fetch(client, names, readings, args.limit)
    result = pivot_result(args.value, readings, response, entities)
    print_answer(args.json, result, lambda: format_pivot(result))
    return 0
