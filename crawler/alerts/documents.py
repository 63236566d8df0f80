"""The alert document (docs/schema.md, "Alerts") and its deterministic id.

Pure functions, shared by the crawl's watching stage, the retro-hunt and the tests, so an alert has one definition
and the crawl and the hunt make the same id for the same watch, page and content.

Offers :func:`alert_id`, :func:`alert_document`, :data:`STATES`, :data:`SOURCES`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from crawler.es.templates import SCHEMA_VERSION
from crawler.watch.model import WatchMatch

NEW = "new"
ACKNOWLEDGED = "acknowledged"
DISMISSED = "dismissed"
STATES = (NEW, ACKNOWLEDGED, DISMISSED)
CRAWL = "crawl"
HUNT = "hunt"
SOURCES = (CRAWL, HUNT)
CREATOR = "darkcrawl"  # the ``by`` of the first history entry: the alert was made by a crawl or hunt, not a person


def alert_id(watch_id: str, page_id: str, content_sha256: str) -> str:
    """SHA-256 (hex) of the watch id, the page id and the page content hash, NUL-separated: one alert per watch and
    page content, whoever finds it first (crawl or hunt), and a new one when the content changes."""
    return hashlib.sha256(f"{watch_id}\0{page_id}\0{content_sha256}".encode()).hexdigest()


def alert_document(
    match: WatchMatch, page: dict[str, Any], page_id: str, source: str, now: str, crawl_id: str | None = None
) -> dict[str, Any]:
    """The alert for *match* on *page* (the page document as indexed), first and last seen *now*, state new.

    *source* is ``crawl`` or ``hunt``. Raises ValueError for another source."""
    if source not in SOURCES:
        raise ValueError(f"alert source {source!r}: use one of {', '.join(SOURCES)}")
    content = page.get("content_sha256") or ""
    document: dict[str, Any] = {
        "alert_id": alert_id(match.watch.id, page_id, content),
        "watch": match.watch.summary(),
        "page": {
            "id": page_id,
            "url": page.get("url"),
            "site": page.get("site"),
            "title": page.get("title") or "",
            "content_sha256": content,
            "language": page.get("language") or "",
        },
        "matches": [dict(item) for item in match.matches],
        "first_seen": now,
        "last_seen": now,
        "state": NEW,
        "history": [{"state": NEW, "by": CREATOR, "at": now, "note": None}],
        "source": source,
        "crawl_id": crawl_id or None,
        "created_at": now,
        "schema_version": SCHEMA_VERSION,
    }
    if match.clone is not None:
        document["clone"] = match.clone
    return document
