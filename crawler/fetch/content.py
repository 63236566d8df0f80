"""What darkcrawl agrees to download: text and HTML only, never media, archives or executables.

Content on darknet sites can be illegal to possess, and binary downloads waste Tor bandwidth. Two gates:

* before the request: URLs whose path ends in a media, archive, document or executable extension are refused
  (``DARKCRAWL_DENIED_EXTENSIONS``);
* when the response headers arrive (Scrapy's ``headers_received`` signal), before the body is read: a Content-Type that
  is not in ``DARKCRAWL_ALLOWED_CONTENT_TYPES`` stops the download, so the bytes never reach disk or memory.

Both are counted under ``darkcrawl/skipped/*`` in the crawl stats.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, StopDownload

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Headers
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def denied_extension(url: str, denied: frozenset[str]) -> str | None:
    """Return the extension of *url*'s path if it is in *denied*, else None."""
    path = urlsplit(url).path.lower()
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    extension = name.rsplit(".", 1)[-1]
    return extension if extension in denied else None


def media_type(content_type: str) -> str:
    """Return the bare, lowercased media type of a Content-Type value (``text/html; charset=x`` -> ``text/html``)."""
    return content_type.split(";", 1)[0].strip().lower()


class ContentPolicyMiddleware:
    """Refuse denied URLs before they are requested and non-text responses as soon as their headers arrive."""

    def __init__(self, stats: StatsCollector, denied_extensions: frozenset[str], allowed_types: frozenset[str]):
        self.stats = stats
        self.denied_extensions = denied_extensions
        self.allowed_types = allowed_types

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContentPolicyMiddleware:
        assert crawler.stats is not None
        middleware = cls(
            crawler.stats,
            frozenset(ext.lower().lstrip(".") for ext in crawler.settings.getlist("DARKCRAWL_DENIED_EXTENSIONS")),
            frozenset(kind.lower() for kind in crawler.settings.getlist("DARKCRAWL_ALLOWED_CONTENT_TYPES")),
        )
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        return middleware

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        extension = denied_extension(request.url, self.denied_extensions)
        if extension:
            self.stats.inc_value("darkcrawl/skipped/extension")
            raise IgnoreRequest(f"not downloading {request.url}: .{extension} files are never fetched")

    def headers_received(self, headers: Headers, body_length: int, request: Request, spider: Spider) -> None:
        raw = headers.get(b"Content-Type")
        kind = media_type(raw.decode("latin-1")) if raw else ""
        if kind and kind not in self.allowed_types:
            self.stats.inc_value("darkcrawl/skipped/content_type")
            logger.info("not downloading %s: Content-Type %s is not text", request.url, kind)
            raise StopDownload(fail=True)
