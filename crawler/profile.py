"""An investigator's profile of one signal value, and the entities seen on several sites. The queries
``darkcrawl profile`` and ``darkcrawl entities`` send and how their answers are shaped; the CLI does the I/O.

A profile is the pivot of the value (:mod:`crawler.pivot`: its sites, pages and dates) plus what was seen *with*
it: every other entity sighted on the same pages, with how many of those pages and sites it shares and when it was
last seen there. That is the question behind most pivots: "this vendor: which addresses, keys and handles go with
it?"

Offers :func:`co_occurrence_query`, :func:`co_occurring`, :func:`format_profile`, :func:`entities_query`,
:func:`entities_result` and :func:`format_entities`.
"""

from __future__ import annotations

from typing import Any

from crawler.pivot import format_pivot, short_date

PAGES_COMPARED = 10_000  # pages of the profiled value whose other sightings are read (Elasticsearch's terms limit)
SEEN_WITH_PER_KIND = 20  # co-occurring entities listed per kind


def profile_pages_query(ids: list[str]) -> dict[str, Any]:
    """The URLs of every page where one of *ids* was sighted (a terms aggregation: no hit is read)."""
    return {
        "query": {"terms": {"entity_id": ids}},
        "size": 0,
        "aggs": {"pages": {"terms": {"field": "url", "size": PAGES_COMPARED}}},
    }


def co_occurrence_query(ids: list[str], urls: list[str]) -> dict[str, Any]:
    """Other entities sighted on the pages *urls*: per kind, the entities sharing most pages, with their sites and
    last date on those pages."""
    return {
        "query": {"bool": {"filter": [{"terms": {"url": urls}}], "must_not": [{"terms": {"entity_id": ids}}]}},
        "size": 0,
        "aggs": {"kinds": {
            "terms": {"field": "kind", "size": 16},
            "aggs": {"entities": {
                "terms": {"field": "entity_id", "size": SEEN_WITH_PER_KIND},
                "aggs": {
                    "value": {"top_hits": {"size": 1, "_source": ["value"]}},
                    "sites": {"cardinality": {"field": "site"}},
                    "last": {"max": {"field": "last_seen"}},
                },
            }},
        }},
    }  # fmt: skip


def co_occurring(response: dict[str, Any], stored: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """kind -> the entities seen with the profiled value (:func:`co_occurrence_query`), most shared pages first;
    *stored* (entity documents by id) gives their labels."""
    found: dict[str, list[dict[str, Any]]] = {}
    for kind in response.get("aggregations", {}).get("kinds", {}).get("buckets", []):
        for bucket in kind["entities"]["buckets"]:
            value = bucket["value"]["hits"]["hits"][0]["_source"]["value"]
            found.setdefault(kind["key"], []).append({
                "value": value,
                "label": stored.get(bucket["key"], {}).get("label") or value,
                "shared_pages": bucket["doc_count"],
                "shared_sites": bucket["sites"]["value"],
                "last_seen": bucket["last"].get("value_as_string"),
            })
    return dict(sorted(found.items()))


def format_profile(result: dict[str, Any]) -> str:
    """The profile for people: the pivot's lines, then what was seen with the value, by kind."""
    lines = [format_pivot(result)]
    if not result["entities"]:
        return lines[0]
    seen_with = result.get("seen_with") or {}
    lines.append("seen with it on the same pages:" if seen_with else "nothing else seen on the same pages")
    for kind, entities in seen_with.items():
        lines.append(f"  {kind}:")
        for entity in entities:
            lines.append(f"    {entity['label']}  {entity['shared_pages']} page(s), {entity['shared_sites']} site(s),"
                         f" last {short_date(entity['last_seen'])}")
    return "\n".join(lines)


SORTS = {
    "sites": [{"counts.sites": "desc"}, {"counts.pages": "desc"}, {"last_seen": "desc"}],
    "pages": [{"counts.pages": "desc"}, {"counts.sites": "desc"}, {"last_seen": "desc"}],
    "date": [{"last_seen": "desc"}, {"counts.sites": "desc"}],
}


def entities_query(min_sites: int, kind: str | None, size: int, sort: str) -> dict[str, Any]:
    """Entities seen on at least *min_sites* sites (of *kind*), sorted by *sort* (a key of :data:`SORTS`)."""
    filters: list[dict[str, Any]] = [{"range": {"counts.sites": {"gte": min_sites}}}]
    if kind:
        filters.append({"term": {"kind": kind}})
    return {
        "query": {"bool": {"filter": filters}},
        "size": size,
        "sort": SORTS[sort],
        "track_total_hits": True,
        "_source": ["kind", "value", "label", "counts", "sites", "first_seen", "last_seen"],
    }


def entities_result(response: dict[str, Any], min_sites: int, kind: str | None) -> dict[str, Any]:
    """The answer for tools: the total and the entities, each with its counts, sites and dates."""
    entities = [
        {key: hit["_source"].get(key) for key in ("kind", "value", "label", "counts", "sites", "first_seen",
                                                  "last_seen")}
        for hit in response["hits"]["hits"]
    ]
    return {"min_sites": min_sites, "kind": kind, "total": response["hits"]["total"]["value"], "entities": entities}


def format_entities(result: dict[str, Any]) -> str:
    """One line per entity: kind, label, sites and pages, first and last dates; then its sites."""
    if not result["entities"]:
        kind = f" {result['kind']}" if result["kind"] else ""
        return f"no{kind} entity seen on {result['min_sites']} or more sites"
    lines = []
    for entity in result["entities"]:
        counts = entity.get("counts") or {}
        lines.append(f"{entity['kind']} {entity.get('label') or entity['value']}  {counts.get('sites', 0)} site(s),"
                     f" {counts.get('pages', 0)} page(s), {short_date(entity.get('first_seen'))} .. "
                     f"{short_date(entity.get('last_seen'))}")
        sites = entity.get("sites") or []
        lines.append("    " + ", ".join(sites[:5]) + (f" (+{len(sites) - 5} more)" if len(sites) > 5 else ""))
    if result["total"] > len(result["entities"]):
        lines.append(f"... {result['total'] - len(result['entities'])} more (raise -n, or --json)")
    return "\n".join(lines)
