"""A page's history: the versions the indexing stage keeps (one per run of identical content, docs/schema.md
"versions"), the queries ``darkcrawl history`` and ``darkcrawl evidence --at`` send, and how the answer reads.

Offers :func:`versions_query`, :func:`version_at_query`, :func:`history_result` and :func:`format_history`.
"""

from __future__ import annotations

from typing import Any

from crawler.pivot import short_date

LISTED_FIELDS = ["url", "site", "status", "title", "language", "content_sha256", "crawl_id", "first_seen", "last_seen",
                 "warc"]


def versions_query(url: str, size: int) -> dict[str, Any]:
    """The versions of the page at *url*, newest first."""
    return {
        "query": {"term": {"url": url}},
        "size": size,
        "sort": [{"first_seen": "desc"}],
        "_source": LISTED_FIELDS,
        "track_total_hits": True,
    }


def version_at_query(url: str, at: str) -> dict[str, Any]:
    """The version of *url* that was current at *at* (ISO 8601): the newest one first seen at or before it, with
    its text."""
    return {
        "query": {"bool": {"filter": [{"term": {"url": url}}, {"range": {"first_seen": {"lte": at}}}]}},
        "size": 1,
        "sort": [{"first_seen": "desc"}],
        "_source": [*LISTED_FIELDS, "text"],
    }


def history_result(url: str, response: dict[str, Any], at: str | None = None) -> dict[str, Any]:
    """The answer for tools: the versions (newest first) or, with *at*, the one current then (``version``: None when
    the page was first fetched after *at*)."""
    versions = [dict(hit["_source"], id=hit["_id"]) for hit in response["hits"]["hits"]]
    if at is None:
        return {"url": url, "total": response["hits"]["total"]["value"], "versions": versions}
    return {"url": url, "at": at, "version": versions[0] if versions else None}


def format_history(result: dict[str, Any]) -> str:
    """The versions as lines (dates, hash, title), or the text the page showed at the date asked."""
    if "at" in result:
        version = result["version"]
        if version is None:
            return f"{result['url']} was not fetched yet at {result['at']} (darkcrawl history URL lists its versions)"
        lines = [f"{result['url']} as fetched {short_date(version['first_seen'])} .. {short_date(version['last_seen'])}"
                 f" (content sha256 {version.get('content_sha256', '?')[:16]}, crawl {version.get('crawl_id')}):"]
        if version["last_seen"] < result["at"]:
            lines.append(f"(not fetched between {short_date(version['last_seen'])} and {result['at']}: this is the "
                         "last content known before that date)")
        lines.append(f"title: {version.get('title', '')}")
        lines.append(version.get("text", ""))
        return "\n".join(lines)
    if not result["versions"]:
        return f"no version of {result['url']} in the index (give the URL exactly as indexed)"
    lines = [f"{result['url']}: {result['total']} version(s), newest first"]
    for version in result["versions"]:
        evidence = "  [WARC]" if version.get("warc") else ""
        lines.append(f"  {short_date(version['first_seen'])} .. {short_date(version['last_seen'])}  "
                     f"{version.get('content_sha256', '?')[:16]}  {version.get('title', '')}{evidence}")
    if result["total"] > len(result["versions"]):
        lines.append(f"  ... {result['total'] - len(result['versions'])} more (raise -n, or --json)")
    return "\n".join(lines)
