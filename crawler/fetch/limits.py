"""Limits that keep a hostile site from hurting a crawl: every one is counted and logged with its reason.

The cases, limits and tests are listed in docs/reliability.md. Each hostile response is counted in the crawl stats as
``darkcrawl/hostile/<reason>`` and logged once per site and reason at WARNING (repeats at DEBUG), so a trap with ten
thousand pages gives one line, and the request is dropped (:class:`HostileResponse`, an ``IgnoreRequest``: never
retried). Reasons:

* ``too_large``: more than ``DOWNLOAD_MAXSIZE`` bytes on the wire, announced or received (Scrapy's streaming
  handler cancels the download; an endless response ends here too);
* ``decompressed_too_large``: a gzip, deflate, brotli or zstd body that inflates past ``DOWNLOAD_MAXSIZE`` (Scrapy
  2.19 inflates in 64 KiB steps and stops at the limit, for all four encodings);
* ``too_slow``: the whole response took longer than ``DARKCRAWL_RESPONSE_MAX_TIME`` (a server trickling bytes never
  trips the per-read ``DOWNLOAD_TIMEOUT``);
* ``redirect_loop``: a redirect back to a URL already in the chain; ``too_many_redirects``: more than
  ``REDIRECT_MAX_TIMES``; ``redirect_refused``: a redirect to a URL the crawl may not fetch (a clearnet host in an
  onion-only crawl, a local address);
* ``url_too_long``: a link longer than ``URLLENGTH_LIMIT``; ``link_trap``: a link that repeats the URL pattern of the
  page it is on more than ``DARKCRAWL_MAX_PATTERN_CHAIN`` times in a row, or a path with one segment more than
  ``DARKCRAWL_MAX_PATH_REPEATS`` times (the spider checks these before scheduling).

Offers: :class:`HostileResponse`, :class:`ResponseTooSlowError`, :class:`HostileReporter`, :func:`url_pattern`,
:func:`pattern_run`, :func:`path_repeats`, :class:`HostileResponseMiddleware`, :class:`BoundedCompressionMiddleware`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest

from crawler.identity import refusal_reason, site_key

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DIGITS = re.compile(r"\d+")


class HostileResponse(IgnoreRequest):
    """A response (or link) dropped because it crossed one of the limits above; *reason* is the stats key."""

    def __init__(self, reason: str, url: str, detail: str):
        super().__init__(f"{reason}: {detail} ({url})")
        self.reason = reason
        self.url = url
        self.detail = detail


class ResponseTooSlowError(Exception):
    """The whole response took longer than ``DARKCRAWL_RESPONSE_MAX_TIME`` (not retried: the site is doing it)."""


class HostileReporter:
    """Counts hostile responses and logs the first of each kind per site."""

    def __init__(self, stats: StatsCollector):
        self.stats = stats
        self.logged: set[tuple[str, str]] = set()

    def report(self, reason: str, url: str, detail: str) -> HostileResponse:
        """Count and log one hostile response; return the exception that drops it."""
        self.stats.inc_value(f"darkcrawl/hostile/{reason}")
        site = site_key(_hostname(url))
        level = logging.DEBUG if (site, reason) in self.logged else logging.WARNING
        self.logged.add((site, reason))
        logger.log(level, "hostile response from %s: %s, %s (%s); further ones are counted as darkcrawl/hostile/%s",
                   site or "?", reason, detail, _short(url), reason)
        return HostileResponse(reason, url, detail)


def _hostname(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _short(url: str, limit: int = 200) -> str:
    return url if len(url) <= limit else f"{url[:limit]}... ({len(url)} characters)"


def url_pattern(url: str) -> str:
    """The shape of *url*: host, path with every digit run as ``N``, and the sorted query keys (values dropped).

    ``/trap/calendar/2026/11`` and ``/trap/calendar/2031/4`` share one; ``/product/17`` and ``/vendor/17`` do not.
    """
    try:
        parts = urlsplit(url)
        keys = sorted({key for key, _ in parse_qsl(parts.query, keep_blank_values=True)})
    except ValueError:
        return url
    shape = f"{(parts.hostname or '').lower()}{_DIGITS.sub('N', parts.path)}"
    return f"{shape}?{'&'.join(keys)}" if keys else shape


def pattern_run(link: str, page_url: str, page_run: int) -> int:
    """How many times in a row the link path repeats one pattern: *page_run* + 1 when *link* has the pattern of the
    page it was found on, else 1. Next-month, next-event and next-page links grow it; a listing's items do not."""
    return page_run + 1 if url_pattern(link) == url_pattern(page_url) else 1


def path_repeats(url: str) -> int:
    """The most times one path segment occurs in *url* (``/a/b/a/b/a`` -> 3): relative-link loops grow it."""
    try:
        segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    except ValueError:
        return 0
    return max(Counter(segments).values(), default=0)


class HostileResponseMiddleware:
    """Downloader middleware at 610: sees raw responses before the redirect and compression middlewares, and
    download errors before the retry middleware; turns the hostile ones into :class:`HostileResponse`."""

    def __init__(self, reporter: HostileReporter, max_redirects: int, allow_clearnet: bool):
        self.reporter = reporter
        self.max_redirects = max_redirects
        self.allow_clearnet = allow_clearnet

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostileResponseMiddleware:
        assert crawler.stats is not None
        quiet_scrapy_duplicates()
        return cls(
            HostileReporter(crawler.stats),
            max_redirects=crawler.settings.getint("REDIRECT_MAX_TIMES"),
            allow_clearnet=crawler.settings.getbool("DARKCRAWL_ALLOW_CLEARNET"),
        )

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        if response.status not in REDIRECT_STATUSES or request.meta.get("dont_redirect"):
            return response
        location = response.headers.get(b"Location")
        if not location:
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            raise self.reporter.report("redirect_loop", request.url, f"redirects back to {_short(target, 120)}")
        if request.meta.get("redirect_times", 0) >= self.max_redirects:
            raise self.reporter.report(
                "too_many_redirects", request.url, f"more than REDIRECT_MAX_TIMES={self.max_redirects} redirects"
            )
        refused = refusal_reason(target, self.allow_clearnet)
        if refused is not None:
            raise self.reporter.report(
                "redirect_refused", request.url, f"redirects to {_short(target, 120)}, refused ({refused})"
            )
        return response

    def process_exception(self, request: Request, exception: BaseException, spider: Spider | None = None) -> None:
        if isinstance(exception, DownloadCancelledError) and "max size" in str(exception):
            raise self.reporter.report("too_large", request.url, str(exception).split(" in request ")[0])
        if isinstance(exception, ResponseTooSlowError):
            raise self.reporter.report("too_slow", request.url, str(exception))
        return None


class BoundedCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's decompression (bounded by ``DOWNLOAD_MAXSIZE`` for every encoding), with bombs counted and logged
    as hostile responses instead of Scrapy's own warning."""

    reporter: HostileReporter

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        middleware = super().from_crawler(crawler)
        assert crawler.stats is not None
        middleware.reporter = HostileReporter(crawler.stats)
        quiet_scrapy_duplicates()
        return middleware

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            encodings = b",".join(response.headers.getlist("Content-Encoding")).decode("latin-1")
            detail = (
                f"{len(response.body)} bytes of {encodings} inflate past DOWNLOAD_MAXSIZE={self._max_size} bytes"
            )
            raise self.reporter.report("decompressed_too_large", request.url, detail) from exc


def _not_a_bomb_warning(record: logging.LogRecord) -> bool:
    """Drop Scrapy's own decompression-limit warning: :class:`BoundedCompressionMiddleware` logs it once per site."""
    return "during decompression" not in record.getMessage()


def _not_a_maxsize_warning(record: logging.LogRecord) -> bool:
    """Drop Scrapy's own maximum-size warning: :class:`HostileResponseMiddleware` logs it once per site."""
    return "download max size" not in record.getMessage()


def quiet_scrapy_duplicates() -> None:
    """Install the filters that leave one line per hostile response (ours, with its reason and stats key)."""
    logging.getLogger("scrapy.core.downloader.handlers._base_streaming").addFilter(_not_a_maxsize_warning)
    logging.getLogger("scrapy.downloadermiddlewares.httpcompression").addFilter(_not_a_bomb_warning)
