"""Scrapy items darkcrawl produces. Typed dataclasses (Scrapy accepts them through itemadapter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.extract.text import ParsedDocument


def utc_timestamp() -> str:
    """Now, as the ISO 8601 UTC string every darkcrawl date field uses (``2026-11-29T04:35:08.397Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_timestamp(seconds: float) -> str:
    """*seconds* since the epoch in the same form as :func:`utc_timestamp`."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class PageItem:
    """One fetched page: what was fetched, when, through which Tor instance, and the signals extracted from it.

    ``signals`` holds the JSON object documented for ``darkcrawl extract --json`` (language, crypto addresses, onions,
    PGP keys, contacts, vendors, keywords, content hash, simhash), filled by the extraction pipeline stage.
    """

    url: str
    canonical_url: str
    site: str  # the host: a v3 onion hostname, or a clearnet host when clearnet crawling is on
    status: int
    fetched_at: str  # ISO 8601, UTC
    crawl_id: str
    depth: int = 0
    referer: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # the headers of interest only (server, content-type, ...)
    content_type: str = ""
    content_length: int = 0
    title: str = ""
    text: str = ""
    html: str = ""  # the decoded body, dropped by the indexing stage (kept for extraction stages only)
    links_onion: list[str] = field(default_factory=list)
    links_clearnet: list[str] = field(default_factory=list)
    content_sha256: str = ""
    language: str = ""
    tor_instance: int = 0
    rendered: bool = False  # rendered by the browser (crawler/render) rather than fetched plainly
    render_reason: str | None = None  # why: request, site, js_gate
    screenshot_path: str | None = None  # full-page PNG beside the crawl output (DARKCRAWL_RENDER_SCREENSHOTS)
    screenshot_sha256: str | None = None
    warc: dict[str, Any] | None = None  # where the response is kept as evidence (crawler/evidence), when WARC is on
    signals: dict[str, Any] = field(default_factory=dict)
    # How extraction ended (pipelines/extraction.py): {"status": "ok" | "timeout" | "failed", "elapsed_ms": int}.
    extraction: dict[str, Any] | None = None
    # Set only for a page the content policy flagged (crawler/safety): why, and hashes of the body, which is not kept.
    review: dict[str, Any] | None = None


_EXTRACTION_INPUT = "_darkcrawl_extraction_input"  # an attribute, not a field: never exported, never indexed


def attach_extraction_input(item: PageItem, parsed: ParsedDocument) -> None:
    """Hand the page's one parse (``ParsedDocument.for_extraction()``, crawler/fetch/parsed.py) to the extraction
    stage with *item*, so that its workers extract from it instead of parsing the markup again."""
    setattr(item, _EXTRACTION_INPUT, parsed)


def take_extraction_input(item: PageItem) -> ParsedDocument | None:
    """The parse handed over with *item* (then forgotten by the item), or None."""
    parsed: ParsedDocument | None = getattr(item, _EXTRACTION_INPUT, None)
    if parsed is not None:
        delattr(item, _EXTRACTION_INPUT)
    return parsed
