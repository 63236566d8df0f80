"""From a :class:`~crawler.items.PageItem` to the Elasticsearch page document, and its deterministic id; from a page
document to its version in the page history.

Pure functions, shared by the indexing stage, the spool replay and the tests, so the document has one definition.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from crawler.es.templates import SCHEMA_VERSION
from crawler.items import PageItem

# Item fields that never go to Elasticsearch: the raw body stays out of the index (size, and what it may contain).
EXCLUDED_FIELDS = frozenset({"html"})


def page_document(item: PageItem) -> dict[str, Any]:
    """The page item as a JSON-ready dict, without the fields kept out of the index."""
    document = dataclasses.asdict(item)
    for name in EXCLUDED_FIELDS:
        document.pop(name, None)
    for optional in ("review", "extraction"):  # review: only flagged pages; extraction: only extracted ones
        if document.get(optional) is None:
            document.pop(optional, None)
    document["schema_version"] = SCHEMA_VERSION
    return document


# Page fields a version keeps: what the page said and where its evidence is, not its links or signals (those are the
# page's and its sightings'). docs/schema.md, "versions".
VERSION_FIELDS = ("url", "site", "status", "title", "text", "language", "content_sha256", "crawl_id", "warc")


def version_document(document: dict[str, Any], page: str, seen: str) -> dict[str, Any]:
    """The version fields of page *document* (id *page*) fetched at *seen*; ``first_seen`` is added by the upsert."""
    version = {name: document[name] for name in VERSION_FIELDS if document.get(name) not in (None, "")}
    simhash = (document.get("signals") or {}).get("simhash")
    if simhash:
        version["simhash"] = simhash
    return version | {"page_id": page, "last_seen": seen, "schema_version": SCHEMA_VERSION}
