"""Pivoting on one signal value: where was it seen? The queries ``darkcrawl pivot`` sends and how the answer is shaped.
Pure functions; the CLI (crawler/cli/pivot.py) does the I/O. Sightings are the record (every page, with its first and
last date); the entity document adds its label and attributes when the roll-up has written it.

Offers :func:`pivot_ids` (a typed value -> the entity ids it may be), :func:`key_id_query` and
:func:`key_id_readings` (a PGP key id -> the fingerprints in the index it belongs to), :func:`sightings_query`,
:func:`site_summary`, :func:`pivot_result` and :func:`format_pivot`.
"""

from __future__ import annotations

from typing import Any

from crawler.es.schema import entity_id
from crawler.sink.entities import PGP, candidates, normalise

SITES_SHOWN = 1000  # sites listed per entity
KEYS_PER_KEY_ID = 100  # fingerprints a key id may name (a short id collides; a long one hardly ever)


def pivot_ids(value: str, kind: str | None = None) -> dict[str, tuple[str, str]]:
    """entity id -> (kind, normalised value) for every reading of *value* (only *kind*'s when given)."""
    if kind:
        normalised = normalise(kind, value)
        pairs = [(kind, normalised)] if normalised else []
    else:
        pairs = candidates(value)
    return {entity_id(pair_kind, pair_value): (pair_kind, pair_value) for pair_kind, pair_value in pairs}


def key_id_query(key_id: str) -> dict[str, Any]:
    """The PGP fingerprint entities whose key id may be *key_id* (8 or 16 upper-case hex digits): a v4 key id is the
    end of its fingerprint, a v6 one the start; :func:`key_id_readings` keeps the exact ones."""
    return {
        "query": {"bool": {
            "filter": [{"term": {"kind": PGP}}],
            "should": [{"wildcard": {"value": f"*{key_id}"}}, {"prefix": {"value": key_id}}],
            "minimum_should_match": 1,
        }},
        "size": KEYS_PER_KEY_ID,
        "_source": ["value"],
    }  # fmt: skip


def key_id_readings(key_id: str, response: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """entity id -> (kind, fingerprint) for the fingerprints of *response* (:func:`key_id_query`) that *key_id* is
    the key id of: the last 8 or 16 hex digits of a v4 fingerprint (40), the first 16 of a v6 one (64)."""
    found: dict[str, tuple[str, str]] = {}
    for hit in response["hits"]["hits"]:
        fingerprint = str(hit["_source"].get("value") or "")
        v4 = len(fingerprint) == 40 and fingerprint.endswith(key_id)
        v6 = len(fingerprint) == 64 and len(key_id) == 16 and fingerprint.startswith(key_id)
        if v4 or v6:
            found[entity_id(PGP, fingerprint)] = (PGP, fingerprint)
    return found


def sightings_query(ids: list[str], size: int) -> dict[str, Any]:
    """The sightings of *ids*, most recent first, with per entity and site: page count, first and last dates."""
    return {
        "query": {"terms": {"entity_id": ids}},
        "size": size,
        "sort": [{"last_seen": "desc"}, {"url": "asc"}],
        "_source": ["entity_id", "url", "site", "first_seen", "last_seen", "crawl_id"],
        "track_total_hits": True,
        "aggs": {
            "entities": {
                "terms": {"field": "entity_id", "size": max(len(ids), 1)},
                "aggs": {
                    "first": {"min": {"field": "first_seen"}},
                    "last": {"max": {"field": "last_seen"}},
                    "sites": {
                        "terms": {"field": "site", "size": SITES_SHOWN, "order": {"last": "desc"}},
                        "aggs": {"first": {"min": {"field": "first_seen"}}, "last": {"max": {"field": "last_seen"}}},
                    },
                },
            }
        },
    }


def site_summary(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"site": site["key"], "pages": site["doc_count"], "first_seen": site["first"]["value_as_string"],
         "last_seen": site["last"]["value_as_string"]}
        for site in bucket["sites"]["buckets"]
    ]


def pivot_result(
    value: str, readings: dict[str, tuple[str, str]], response: dict[str, Any], entities: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The answer for tools (``--json``): per entity found, its dates, counts, sites and pages."""
    pages: dict[str, list[dict[str, Any]]] = {}
    for hit in response["hits"]["hits"]:
        source = hit["_source"]
        pages.setdefault(source["entity_id"], []).append(
            {key: source.get(key) for key in ("url", "site", "first_seen", "last_seen", "crawl_id")}
        )
    found = []
    for bucket in response["aggregations"]["entities"]["buckets"]:
        kind, normalised = readings[bucket["key"]]
        stored = entities.get(bucket["key"], {})
        sites = site_summary(bucket)
        found.append({
            "kind": kind,
            "value": normalised,
            "label": stored.get("label", normalised),
            "attributes": stored.get("attributes", {}),
            "first_seen": bucket["first"]["value_as_string"],
            "last_seen": bucket["last"]["value_as_string"],
            "counts": {"pages": bucket["doc_count"], "sites": len(sites)},
            "sites": sites,
            "pages": pages.get(bucket["key"], []),
        })
    found.sort(key=lambda entity: entity["counts"]["pages"], reverse=True)
    return {"query": value, "entities": found}


def short_date(timestamp: str | None) -> str:
    return (timestamp or "?")[:16].replace("T", " ")


def format_pivot(result: dict[str, Any]) -> str:
    """The answer for people: per entity a header, its sites, then its pages, each with first and last dates."""
    if not result["entities"]:
        return f"no sighting of {result['query']!r} in the index"
    lines: list[str] = []
    for entity in result["entities"]:
        counts = entity["counts"]
        extra = ", ".join(f"{key} {value}" for key, value in sorted(entity["attributes"].items())
                          if isinstance(value, str | int))
        lines.append(f"{entity['kind']} {entity['label']}" + (f" ({extra})" if extra else ""))
        lines.append(f"  seen on {counts['pages']} page(s) of {counts['sites']} site(s), "
                     f"first {short_date(entity['first_seen'])}, last {short_date(entity['last_seen'])}")
        lines.append("  sites:")
        for site in entity["sites"]:
            lines.append(f"    {site['site']}  {site['pages']} page(s)  {short_date(site['first_seen'])} .. "
                         f"{short_date(site['last_seen'])}")
        lines.append("  pages (most recent first):")
        for page in entity["pages"]:
            lines.append(f"    {short_date(page['first_seen'])} .. {short_date(page['last_seen'])}  {page['url']}")
        if len(entity["pages"]) < counts["pages"]:
            lines.append(f"    ... {counts['pages'] - len(entity['pages'])} more (raise --limit, or --json)")
    return "\n".join(lines)
