"""Downloader middleware that decides which requests are rendered in the browser (docs/rendering.md).

A request is rendered when ``DARKCRAWL_RENDER`` is on and

* its meta asks for it (``meta["darkcrawl_render"] = True``; ``False`` forbids it), or
* its site is in ``DARKCRAWL_RENDER_SITES`` or is a seed site marked ``render=1`` in the seeds file, or
* its plain response looked like a JavaScript gate (:func:`crawler.render.gate.gate_reason`, with
  ``DARKCRAWL_RENDER_JS_GATES``): the page is then fetched once more, in the browser. Bounded: a rendered request is
  never retried this way, so a page that still looks like a gate is kept as it is.

Two components, because a response passes the downloader middlewares in the reverse order of the requests:
:class:`RenderMiddleware` (720, after the Tor refusals) marks requests; :class:`RenderGateMiddleware` (582) reads
responses after decompression (590) and decoding (585), before meta refresh (580), so a compressed page is judged by
its markup, not its gzip bytes.

Marked requests carry ``meta["playwright"] = True`` (the handler's switch) and ``meta["darkcrawl_render_reason"]``
(``request``, ``site``, ``js_gate``). Stats: ``darkcrawl/render/requested/<reason>``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from scrapy.http import TextResponse

from crawler.fetch.parsed import parsed_response
from crawler.identity import META_JS_GATE, META_RENDER, META_RENDER_REASON, site_key
from crawler.render.config import RenderConfig
from crawler.render.gate import MAX_SCANNED, gate_reason

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class RenderMiddleware:
    """Mark the requests to render; send a plain page that looks like a JavaScript gate back once, to the browser."""

    def __init__(self, config: RenderConfig, stats: StatsCollector, crawler: Crawler | None = None):
        self.config = config
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderMiddleware:
        config = RenderConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("rendering is off (DARKCRAWL_RENDER)")
        assert crawler.stats is not None
        return cls(config, crawler.stats, crawler)

    def render_sites(self) -> set[str]:
        """The configured sites and the seed sites marked ``render=1`` (the spider's ``render_sites``)."""
        spider = getattr(self.crawler, "spider", None) if self.crawler is not None else None
        return set(self.config.sites) | set(getattr(spider, "render_sites", ()) or ())

    def reason_for(self, request: Request) -> str | None:
        """Why *request* is rendered, or None for a plain fetch."""
        asked = request.meta.get(META_RENDER)
        if asked is False:
            return None
        if asked:
            return str(request.meta.get(META_RENDER_REASON) or "request")
        if site_key(urlsplit(request.url).hostname or "") in self.render_sites():
            return "site"
        return None

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        reason = self.reason_for(request)
        if reason is None:
            return
        if not request.meta.get("playwright"):
            self.stats.inc_value(f"darkcrawl/render/requested/{reason}")
        request.meta["playwright"] = True
        request.meta[META_RENDER_REASON] = reason


class RenderGateMiddleware:
    """Send a plain page that looks like a JavaScript gate back once, to the browser (:class:`RenderMiddleware` then
    marks the new request for rendering)."""

    def __init__(self, stats: StatsCollector):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderGateMiddleware:
        config = RenderConfig.from_settings(crawler.settings)
        if not config.enabled:
            raise NotConfigured("rendering is off (DARKCRAWL_RENDER)")
        if not config.js_gates:
            raise NotConfigured("the JavaScript-gate heuristic is off (DARKCRAWL_RENDER_JS_GATES)")
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        if (
            request.meta.get("playwright")
            or request.meta.get(META_RENDER) is False
            or not isinstance(response, TextResponse)
            or response.status != 200
        ):
            return response
        if (response.headers.get(b"Content-Encoding") or b"").strip().lower() not in (b"", b"identity"):
            return response  # still compressed: this middleware was moved above decompression (590)
        # the page's one parse, reused by the content policy and the spider
        gate = gate_reason(parsed_response(response, request, gate_up_to=MAX_SCANNED).gate)
        if gate is None:
            return response
        self.stats.inc_value(f"darkcrawl/render/js_gate/{gate}")
        logger.info("%s looks like a JavaScript gate (%s): fetching it again in the browser", request.url, gate)
        meta = dict(request.meta)
        meta.update({META_RENDER: True, META_RENDER_REASON: "js_gate", META_JS_GATE: gate})
        return request.replace(meta=meta, dont_filter=True)
