"""The download handler of a crawl that renders: Chromium (scrapy-playwright) for marked requests, Tor for the rest.

Requests marked ``meta["playwright"]`` (by :class:`crawler.render.middleware.RenderMiddleware`) are rendered by
Debian's Chromium through Tor; every other request goes to :class:`crawler.tor.handler.TorOnlyDownloadHandler`, never to
scrapy-playwright's own fallback (Scrapy's direct HTTP/1.1 handler). Installed for http/https by
:func:`crawler.render.render_settings` when ``DARKCRAWL_RENDER`` is on. Documented in docs/rendering.md.

What it adds to scrapy-playwright:

* contexts: one per Tor SOCKS port of ``DARKCRAWL_RENDER_SOCKS`` (a site always lands on the same one), created with
  :func:`crawler.render.browser.context_options` and WebRTC removed; a context is closed after
  ``DARKCRAWL_RENDER_PAGES_PER_CONTEXT`` pages and replaced; at most ``DARKCRAWL_RENDER_MAX_CONTEXTS`` open;
* at most ``DARKCRAWL_RENDER_MAX_PAGES`` pages open at once, each bounded by ``DARKCRAWL_RENDER_PAGE_TIMEOUT``; a
  rendered document larger than ``DOWNLOAD_MAXSIZE`` is dropped, as a plain body would be;
* route interception: media, fonts, downloads, refused hosts aborted (:func:`crawler.render.browser.abort_reason`);
* after load, a short wait for the page's own requests to settle, then the optional full-page screenshot;
* the browser's memory watched (``DARKCRAWL_RENDER_MAX_MEMORY_MB``): above it the browser is restarted, as it is
  after a crash, without stopping the crawl.

Stats: ``darkcrawl/render/*``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import psutil
from playwright.async_api import Error as PlaywrightError
from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy_playwright.handler import Config, ScrapyPlaywrightDownloadHandler

from crawler.identity import META_SCREENSHOT, site_key
from crawler.render.browser import INIT_SCRIPT, abort_reason, context_options, launch_options, proxy_server
from crawler.render.config import RenderConfig
from crawler.render.evidence import store_screenshot
from crawler.tor.handler import NotThroughTorError, TorOnlyDownloadHandler
from crawler.tor.isolation import instance_index

if TYPE_CHECKING:
    from playwright.async_api import Page
    from playwright.async_api import Request as PlaywrightRequest
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

MEMORY_CHECK_INTERVAL = 10.0  # seconds between two readings of the browser's memory
MIB = 1024 * 1024


def browser_memory(exclude_names: frozenset[str] = frozenset({"tor"})) -> int:
    """Memory (bytes) of this process's descendants, tor excepted: the Playwright driver and Chromium.

    Proportional set size where the kernel gives it: Chromium's processes share much of their memory, and a sum of
    their resident sizes would count it once per process."""
    total = 0
    for child in psutil.Process().children(recursive=True):
        with suppress(psutil.Error):
            if child.name() in exclude_names:
                continue
            info = child.memory_full_info()
            total += getattr(info, "pss", info.rss)
    return total


class _OneLineWarnings(logging.Filter):
    """scrapy-playwright logs a failed page as a warning with its traceback; the crawl's log keeps the one line
    (the spider's errback logs the error itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.WARNING:
            record.exc_info = None
            record.exc_text = None
        return True


class TorRenderDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler bound to Tor: rendered requests in Chromium behind Tor, the rest through Tor."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TorRenderDownloadHandler:
        """One handler (one browser) per crawl, though Scrapy asks once for http and once for https."""
        existing = getattr(crawler, "_darkcrawl_render_handler", None)
        if existing is None:
            existing = cls(crawler)
            crawler._darkcrawl_render_handler = existing  # type: ignore[attr-defined]
        return existing

    def __init__(self, crawler: Crawler):
        render = RenderConfig.from_settings(crawler.settings)
        if not render.enabled:
            raise NotConfigured("rendering is off (DARKCRAWL_RENDER)")
        if not render.socks:
            raise NotConfigured("no Tor SOCKS port for the browser (DARKCRAWL_RENDER_SOCKS, DARKCRAWL_TOR_SOCKS)")
        self.render = render
        self.plain = TorOnlyDownloadHandler(crawler)  # NotConfigured without Tor: no handler at all then
        super().__init__(crawler)
        self.config = Config(
            cdp_url=None,
            cdp_kwargs={},
            connect_url=None,
            connect_kwargs={},
            browser_type_name="chromium",
            launch_options=launch_options(render),
            max_pages_per_context=render.max_pages,
            max_contexts=None,  # bounded here, not by a semaphore awaited under scrapy-playwright's context lock
            startup_context_kwargs={},
            navigation_timeout_ms=render.page_timeout * 1000,
            download_timeout_secs=5,
            restart_disconnected_browser=True,
            target_closed_max_retries=2,
        )
        self.abort_request = self._abort_request
        self.slots = min(len(render.socks), render.max_contexts)
        self.allowed_proxies = {proxy_server(socks)["server"] for socks in render.socks}
        self.page_slots = asyncio.Semaphore(render.max_pages)
        self.contexts_changed = asyncio.Condition()
        self.generation: defaultdict[int, int] = defaultdict(int)
        self.started_pages: Counter[str] = Counter()
        self.open_pages: Counter[str] = Counter()
        self.live_contexts: set[str] = set()
        self.retiring: set[str] = set()
        self.crawl_id = crawler.settings.get("DARKCRAWL_CRAWL_ID") or "no-crawl-id"
        self.watch_task: asyncio.Task[None] | None = None
        self.closing = False
        self.max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")  # the rendered DOM, like a plain body
        crawler.signals.connect(self._start_memory_watch, signals.engine_started)
        playwright_logger = logging.getLogger("scrapy-playwright")
        if not any(isinstance(existing, _OneLineWarnings) for existing in playwright_logger.filters):
            playwright_logger.addFilter(_OneLineWarnings())

    # --- dispatch -------------------------------------------------------------------------------------------------

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await self.plain.download_request(request)
        return await self._render(request)

    async def close(self) -> None:
        if self.closing:
            return
        self.closing = True
        if self.watch_task is not None:
            self.watch_task.cancel()
            with suppress(asyncio.CancelledError):
                await self.watch_task
        try:
            await super().close()
        finally:
            await self.plain.close()

    # --- rendering --------------------------------------------------------------------------------------------------

    async def _render(self, request: Request) -> Response:
        stats = self.stats
        async with self.page_slots:
            slot = instance_index(site_key(urlsplit(request.url).hostname or ""), self.slots)
            name = await self._assign_context(slot)
            # Whatever the spider put there is replaced: the context, and so the proxy, is decided here only.
            request.meta["playwright_context"] = name
            request.meta["playwright_context_kwargs"] = context_options(self.render, slot)
            request.meta.pop("playwright_include_page", None)
            request.meta.pop("playwright_page", None)
            try:
                response = await asyncio.wait_for(
                    super().download_request(request), timeout=self.render.page_timeout * 2 + self.render.settle + 30
                )
            except Exception as exc:
                stats.inc_value(f"darkcrawl/render/failed/{type(exc).__name__}")
                raise
            finally:
                await self._page_done(name)
        if self.max_size and len(response.body) > self.max_size:
            stats.inc_value("darkcrawl/render/too_large")
            raise IgnoreRequest(
                f"rendered {request.url} is {len(response.body)} bytes, over DOWNLOAD_MAXSIZE ({self.max_size})"
            )
        stats.inc_value("darkcrawl/render/pages")
        return response

    async def _assign_context(self, slot: int) -> str:
        """Return the context name for a page on *slot*: its current context, rotated after N pages; wait while
        the cap on open contexts is reached (a retired context counts until its last page closes)."""
        async with self.contexts_changed:
            while True:
                name = f"tor{slot}-{self.generation[slot]}"
                if name in self.live_contexts or len(self.live_contexts) < max(self.render.max_contexts, self.slots):
                    break
                await self.contexts_changed.wait()
            self.live_contexts.add(name)
            self.started_pages[name] += 1
            self.open_pages[name] += 1
            if self.started_pages[name] >= self.render.pages_per_context:
                self.generation[slot] += 1
                self.retiring.add(name)
            return name

    async def _page_done(self, name: str) -> None:
        async with self.contexts_changed:
            self.open_pages[name] -= 1
            if name not in self.retiring or self.open_pages[name] > 0:
                return
            self.retiring.discard(name)
            wrapper = self.context_wrappers.get(name)
            if wrapper is not None:
                with suppress(PlaywrightError):
                    await wrapper.context.close()
                self.stats.inc_value("darkcrawl/render/contexts_closed")
            self.live_contexts.discard(name)
            del self.open_pages[name], self.started_pages[name]
            self.contexts_changed.notify_all()

    async def _create_browser_context(
        self, name: str, context_kwargs: dict | None, spider: Spider | None = None
    ) -> Any:
        kwargs = dict(context_kwargs or {})
        proxy = (kwargs.get("proxy") or {}).get("server")
        if proxy not in self.allowed_proxies:
            raise NotThroughTorError(f"refused browser context {name}: proxy {proxy!r} is not a Tor SOCKS port")
        if kwargs.get("accept_downloads") is not False:
            raise ValueError(f"refused browser context {name}: it must refuse downloads (accept_downloads=False)")
        kwargs.pop(self._persistent_key, None)  # never a persistent profile: contexts leave nothing behind
        wrapper = await super()._create_browser_context(name, kwargs, spider)
        await wrapper.context.add_init_script(INIT_SCRIPT)
        self.stats.inc_value("darkcrawl/render/contexts_opened")
        return wrapper

    _persistent_key = "user_data_dir"

    async def _abort_request(self, playwright_request: PlaywrightRequest) -> bool:
        reason = abort_reason(self.render, playwright_request.url, playwright_request.resource_type)
        if reason is not None:
            self.stats.inc_value(f"darkcrawl/render/aborted/{reason}")
            return True
        return False

    async def _get_response_and_download(self, request: Request, page: Page, spider: Spider) -> Any:
        """Never a download: the page that asked for one is kept (the download was refused, accept_downloads=False);
        a URL that is itself a download is dropped."""
        response, download = await super()._get_response_and_download(request, page, spider)
        if download is not None:
            self.stats.inc_value("darkcrawl/render/downloads_refused")
            if response is None:
                raise IgnoreRequest(f"not rendering {request.url}: it is a download, and downloads are never accepted")
        return response, None

    async def _apply_page_methods(self, page: Page, request: Request, spider: Spider) -> None:
        await super()._apply_page_methods(page, request, spider)
        if self.render.settle:
            # Scripts often fetch the content after "load": give their requests a moment to finish.
            with suppress(PlaywrightError):
                await page.wait_for_load_state("networkidle", timeout=self.render.settle * 1000)
        if self.render.screenshots and self.render.screenshot_dir is not None:
            try:
                png = await page.screenshot(full_page=True, type="png", timeout=self.render.page_timeout * 1000)
            except PlaywrightError as exc:
                self.stats.inc_value("darkcrawl/render/screenshot_failed")
                logger.info("no screenshot of %s: %s", request.url, str(exc).splitlines()[0][:200])
                return
            path, digest = await asyncio.to_thread(
                store_screenshot, self.render.screenshot_dir, self.crawl_id, request.url, png
            )
            request.meta[META_SCREENSHOT] = {"path": str(path), "sha256": digest}
            self.stats.inc_value("darkcrawl/render/screenshots")

    # --- browser health ---------------------------------------------------------------------------------------------

    async def _browser_disconnected_callback(self) -> None:
        if not self.closing:
            self.stats.inc_value("darkcrawl/render/browser_restarts")
            logger.warning("the browser went away (crash or restart): a new one starts with the next rendered page")
        # The bookkeeping stays: pages in flight fail and are counted done; a context name still in use is created
        # again, in the new browser, by its next page.
        await super()._browser_disconnected_callback()

    def _start_memory_watch(self) -> None:
        if self.render.max_memory_mb and self.watch_task is None:
            self.watch_task = asyncio.get_running_loop().create_task(self._watch_memory())

    async def _watch_memory(self) -> None:
        limit = self.render.max_memory_mb * MIB
        while True:
            await asyncio.sleep(MEMORY_CHECK_INTERVAL)
            used = await asyncio.to_thread(browser_memory)
            peak = self.stats.get_value("darkcrawl/render/memory_peak_mb") or 0
            self.stats.set_value("darkcrawl/render/memory_peak_mb", max(peak, used // MIB))
            if used > limit and hasattr(self, "browser"):
                logger.warning(
                    "the browser uses %d MB (limit %d, DARKCRAWL_RENDER_MAX_MEMORY_MB): restarting it",
                    used // MIB, self.render.max_memory_mb,
                )
                self.stats.inc_value("darkcrawl/render/memory_restarts")
                await self._restart_browser()

    async def _restart_browser(self) -> None:
        """Close the browser once the pages in flight are done (new ones wait); the next page starts a new one."""
        for _ in range(self.render.max_pages):
            await self.page_slots.acquire()
        try:
            if hasattr(self, "browser"):
                with suppress(PlaywrightError):
                    await self.browser.close()
        finally:
            for _ in range(self.render.max_pages):
                self.page_slots.release()
