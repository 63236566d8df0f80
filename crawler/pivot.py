"""Pivoting on one signal value: where was it seen? The queries ``darkcrawl pivot`` sends and how the answer is shaped.
Pure functions; the CLI (crawler/cli/pivot.py) does the I/O. Sightings are the record (every page, with its first and
last date); the entity document adds its label and attributes when the roll-up has written it.

Offers :func:`pivot_ids` (a typed value -> the entity ids it may be), :func:`sightings_query`, :func:`site_summary`,
:func:`pivot_result` and :func:`format_pivot`.
"""

from __future__ import annotations

from typing import Any

from crawler.es.schema import entity_id
from pipelines.entities import candidates, normalise

SITES_SHOWN = 1000  # sites listed per entity


def pivot_ids(value: str, kind: str | None = None) -> dict[str, tuple[str, str]]:
    """entity id -> (kind, normalised value) for every reading of *value* (only *kind*'s when given)."""
    if kind:
        normalised = normalise(kind, value)
        pairs = [(kind, normalised)] if normalised else []
    else:
        pairs = candidates(value)
    return {entity_id(pair_kind, pair_value): (pair_kind, pair_value) for pair_kind, pair_value in pairs}


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


def _day(timestamp: str | None) -> str:
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
                     f"first {_day(entity['first_seen'])}, last {_day(entity['last_seen'])}")
        lines.append("  sites:")
        for site in entity["sites"]:
            lines.append(f"    {site['site']}  {site['pages']} page(s)  {_day(site['first_seen'])} .. "
                         f"{_day(site['last_seen'])}")
        lines.append("  pages (most recent first):")
        for page in entity["pages"]:
            lines.append(f"    {_day(page['first_seen'])} .. {_day(page['last_seen'])}  {page['url']}")
        if len(entity["pages"]) < counts["pages"]:
            lines.append(f"    ... {counts['pages'] - len(entity['pages'])} more (raise --limit, or --json)")
    return "\n".join(lines)
