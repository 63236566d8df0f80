"""From a :class:`~crawler.items.PageItem` to the Elasticsearch page document, and its deterministic id.

Pure functions, shared by the indexing stage, the spool replay and the tests, so the document has one definition.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any
from urllib.parse import urldefrag

from crawler.es.templates import SCHEMA_VERSION
from crawler.items import PageItem

# Item fields that never go to Elasticsearch: the raw body stays out of the index (size, and what it may contain).
EXCLUDED_FIELDS = frozenset({"html"})


def page_id(url: str) -> str:
    """The page document's id: SHA-256 of its URL without fragment, so a recrawl updates the same document."""
    return hashlib.sha256(urldefrag(url)[0].encode("utf-8")).hexdigest()


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
