"""The onion spider: starts from seeds, stays within the seed sites (or follows new onions when asked), yields one
:class:`~crawler.items.PageItem` per fetched text page.

Bounds: ``DEPTH_LIMIT`` (Scrapy), ``DARKCRAWL_MAX_PAGES_PER_SITE`` and ``DARKCRAWL_MAX_PAGES`` (requests scheduled, per
site and in all), and the link-trap guards of :mod:`crawler.fetch.limits` (``URLLENGTH_LIMIT``,
``DARKCRAWL_MAX_PATTERN_CHAIN``, ``DARKCRAWL_MAX_PATH_REPEATS``). Breadth-first order comes from the settings
(``DEPTH_PRIORITY`` with FIFO queues).

In a distributed crawl (``DARKCRAWL_REDIS_URL``) the seeds are in the shared queue already, the budgets are counted in
Redis by the frontier (crawler/frontier/store.py) and the seed sites are read from Redis, so every worker follows the
same sites.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from crawler import signals as darkcrawl_signals
from crawler.fetch.limits import HostileReporter, HostileResponse, path_repeats, pattern_run
from crawler.fetch.parsed import decoded_html, forget_parse, parsed_response
from crawler.identity import (
    META_PATTERN_RUN,
    META_RENDER_REASON,
    META_REVIEW,
    META_SCREENSHOT,
    META_SEED,
    META_TOR_INSTANCE,
    META_WARC,
    is_valid_onion_v3,
    site_key,
)
from crawler.items import PageItem, attach_extraction_input, utc_timestamp
from crawler.seeds import Seed, parse_seeds
from pipelines.extract.text import ParsedDocument
from pipelines.extract.vendors import VendorRules, load_vendor_rules, rule_vendor_values

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

HEADERS_OF_INTEREST = ("server", "content-type", "content-language", "last-modified", "x-powered-by", "location")


def absolute_links(response: TextResponse, parsed: ParsedDocument | None = None) -> list[str]:
    """Return the absolute http(s) URLs of the page's ``<a href>`` and ``<area href>`` links, fragments dropped, in
    order, unique. Read from the page's one parse (:func:`crawler.fetch.parsed.parsed_response`)."""
    parsed = parsed if parsed is not None else parsed_response(response)
    base = _base_url(response, parsed)
    links: dict[str, None] = {}
    for href in parsed.anchors:
        href = href.strip()
        if not href or href.startswith(("javascript:", "mailto:", "data:", "#")):
            continue
        try:
            url = urldefrag(urljoin(base, href))[0]
            scheme = urlsplit(url).scheme
        except ValueError:
            continue
        if scheme in ("http", "https"):
            links[url] = None
    return list(links)


def _base_url(response: TextResponse, parsed: ParsedDocument) -> str:
    """The URL relative links resolve against: ``<base href>`` when the page has one, else the response's URL."""
    base = parsed.base_href
    if base:
        try:
            return urljoin(response.url, base.strip())
        except ValueError:
            pass
    return response.url


def canonical_url(response: TextResponse, parsed: ParsedDocument | None = None) -> str:
    """The page's ``<link rel=canonical>`` when it points into the same site, else its URL without fragment."""
    parsed = parsed if parsed is not None else parsed_response(response)
    href = parsed.canonical_href
    if href:
        try:
            candidate = urljoin(response.url, href.strip())
            if urlsplit(candidate).hostname == urlsplit(response.url).hostname:
                return urldefrag(candidate)[0]
        except ValueError:
            pass
    return urldefrag(response.url)[0]


def rendering_fields(response: Response) -> dict[str, Any]:
    """The page item's rendering fields: whether the browser rendered it, why, and its screenshot (crawler/render)."""
    if "playwright" not in response.flags:
        return {}
    screenshot = response.meta.get(META_SCREENSHOT) or {}
    return {
        "rendered": True,
        "render_reason": response.meta.get(META_RENDER_REASON) or "request",
        "screenshot_path": screenshot.get("path"),
        "screenshot_sha256": screenshot.get("sha256"),
    }


class OnionSpider(scrapy.Spider):
    name = "onion"

    def __init__(
        self, seeds: list[Seed] | None = None, crawl_id: str | None = None, urls: str | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        self.seeds = list(seeds or [])
        # ``urls``: seed URLs as one string, one a line, for runs started by name (Scrapyd's spider arguments);
        # parsed again in from_crawler, where the clearnet setting is known
        self.seed_text = urls
        if urls:
            self.seeds += parse_seeds(urls.splitlines()).seeds
        self.crawl_id = crawl_id or uuid.uuid4().hex
        self.seed_sites = {site_key(seed.site) for seed in self.seeds}
        self.render_sites = {site_key(seed.site) for seed in self.seeds if seed.render}  # seeds marked render=1
        self.scheduled_per_site: Counter[str] = Counter()
        self.scheduled_urls: set[str] = set()
        self.trap_urls: set[str] = set()  # links refused as traps, counted once each
        # set from the settings in from_crawler
        self.follow_links = True
        self.follow_new_onions = False
        self.follow_clearnet = False
        self.max_pages = 0
        self.max_pages_per_site = 0
        self.max_url_length = 0
        self.max_pattern_chain = 0
        self.max_path_repeats = 0
        self.hostile: HostileReporter | None = None
        self.frontier: Any = None  # the shared frontier of a distributed crawl (crawler.frontier.store.Frontier)
        # the vendor rules' selectors are read here, on the page's one parse (extraction workers get no markup)
        self.vendor_rules: VendorRules | None = None
        self.sites_read_at = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> OnionSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.follow_links = settings.getbool("DARKCRAWL_FOLLOW_LINKS")
        spider.follow_new_onions = settings.getbool("DARKCRAWL_FOLLOW_NEW_ONIONS")
        spider.follow_clearnet = settings.getbool("DARKCRAWL_ALLOW_CLEARNET") and settings.getbool(
            "DARKCRAWL_FOLLOW_CLEARNET"
        )
        spider.max_pages = settings.getint("DARKCRAWL_MAX_PAGES")
        spider.max_pages_per_site = settings.getint("DARKCRAWL_MAX_PAGES_PER_SITE")
        spider.max_url_length = settings.getint("URLLENGTH_LIMIT")
        spider.max_pattern_chain = settings.getint("DARKCRAWL_MAX_PATTERN_CHAIN")
        spider.max_path_repeats = settings.getint("DARKCRAWL_MAX_PATH_REPEATS")
        if spider.seed_text:
            parsed = parse_seeds(spider.seed_text.splitlines(), settings.getbool("DARKCRAWL_ALLOW_CLEARNET"))
            for problem in parsed.problems:
                spider.logger.warning("skipped seed, %s", problem)
            spider.seeds = [seed for seed in spider.seeds if seed.url not in {s.url for s in parsed.seeds}]
            spider.seeds += parsed.seeds
            spider.seed_sites = {site_key(seed.site) for seed in spider.seeds}
        if settings.getbool("DARKCRAWL_EXTRACT_ENABLED"):
            spider.vendor_rules = load_vendor_rules(settings.getlist("DARKCRAWL_VENDOR_RULES"))
        if settings.get("DARKCRAWL_REDIS_URL"):
            from crawler.frontier.store import Frontier

            spider.frontier = Frontier.from_settings(settings)
            spider.read_seed_sites()
        return spider

    def read_seed_sites(self) -> None:
        """Distributed crawl: the seed sites are whatever any worker pushed (re-read at most every 10 s)."""
        self.seed_sites |= self.frontier.sites()
        self.sites_read_at = time.monotonic()

    def _trap_reason(self, url: str, run: int) -> tuple[str, str] | None:
        """Why a link must not be followed although its site may be crawled: (reason, detail), or None."""
        if self.max_url_length and len(url) > self.max_url_length:
            return "url_too_long", f"a link of {len(url)} characters (URLLENGTH_LIMIT={self.max_url_length})"
        if self.max_pattern_chain and run > self.max_pattern_chain:
            return "link_trap", (
                f"the {run}th link in a row with the pattern of its page "
                f"(DARKCRAWL_MAX_PATTERN_CHAIN={self.max_pattern_chain})"
            )
        repeats = path_repeats(url)
        if self.max_path_repeats and repeats > self.max_path_repeats:
            return "link_trap", f"a path segment {repeats} times (DARKCRAWL_MAX_PATH_REPEATS={self.max_path_repeats})"
        return None

    def _may_schedule(self, url: str) -> bool:
        """Count *url* against the page budgets; False when a budget is spent or the URL was already scheduled."""
        if self.frontier is not None:
            return True  # the shared frontier filters duplicates and counts the budgets, for all workers at once
        if url in self.scheduled_urls:
            return False
        site = site_key(urlsplit(url).hostname or "")
        if self.max_pages and len(self.scheduled_urls) >= self.max_pages:
            self.crawler.stats.inc_value("darkcrawl/budget/max_pages")
            return False
        if self.max_pages_per_site and self.scheduled_per_site[site] >= self.max_pages_per_site:
            self.crawler.stats.inc_value("darkcrawl/budget/max_pages_per_site")
            return False
        self.scheduled_urls.add(url)
        self.scheduled_per_site[site] += 1
        return True

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.frontier is not None:
            return  # the seeds were pushed into the shared queue (spiders.seeding)
        for seed in self.seeds:
            if self._may_schedule(seed.url):
                yield scrapy.Request(
                    seed.url, callback=self.parse, errback=self.on_error, meta={META_SEED: True}
                )

    def should_follow(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        if site_key(host) in self.seed_sites:
            return True
        if self.frontier is not None and time.monotonic() - self.sites_read_at > 10:
            self.read_seed_sites()
            if site_key(host) in self.seed_sites:
                return True
        if host.endswith(".onion"):
            return self.follow_new_onions and is_valid_onion_v3(host)
        return self.follow_clearnet

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        stats = self.crawler.stats
        if not isinstance(response, TextResponse):
            stats.inc_value("darkcrawl/skipped/not_text")
            return
        review = response.meta.get(META_REVIEW)
        if review is not None:  # the content policy stopped this site: URL, hashes and reason only, no text, no links
            stats.inc_value("darkcrawl/pages")
            yield self.flagged_page(response, review)
            return
        html = decoded_html(response)
        parsed = parsed_response(response)
        links = absolute_links(response, parsed)
        page_run = int(response.meta.get(META_PATTERN_RUN, 1))
        onion_links = [url for url in links if (urlsplit(url).hostname or "").endswith(".onion")]
        clearnet_links = [url for url in links if not (urlsplit(url).hostname or "").endswith(".onion")]
        headers = {}
        for name in HEADERS_OF_INTEREST:
            value = response.headers.get(name)
            if value:
                headers[name] = value.decode("latin-1")[:500]
        host = site_key(urlsplit(response.url).hostname or "")
        item = PageItem(
            url=response.url,
            canonical_url=canonical_url(response, parsed),
            site=host,
            status=response.status,
            fetched_at=utc_timestamp(),
            crawl_id=self.crawl_id,
            depth=int(response.meta.get("depth", 0)),
            referer=(response.request.headers.get("Referer") or b"").decode("latin-1") or None
            if response.request is not None
            else None,
            headers=headers,
            content_type=headers.get("content-type", ""),
            content_length=len(response.body),
            html=html,
            links_onion=onion_links,
            links_clearnet=clearnet_links,
            tor_instance=int(response.meta.get(META_TOR_INSTANCE, 0)),
            warc=response.meta.get(META_WARC),
            **rendering_fields(response),
        )
        if self.vendor_rules is not None:
            rule_vendors = rule_vendor_values(
                self.vendor_rules, url=response.url, tree=parsed.tree, html=parsed.html, generator=parsed.generator
            )
            attach_extraction_input(item, parsed.for_extraction(rule_vendors))
        del parsed
        forget_parse(response)  # the tree is read no more: not kept while the page waits for extraction
        yield item
        stats.inc_value("darkcrawl/pages")
        if not self.follow_links:
            return
        for url in links:
            if not self.should_follow(url) or url in self.scheduled_urls or url in self.trap_urls:
                continue
            run = pattern_run(url, response.url, page_run)
            trap = self._trap_reason(url, run)
            if trap is not None:
                if self.hostile is None:  # the stats exist once the crawl runs, not in from_crawler
                    self.hostile = HostileReporter(self.crawler.stats)
                self.trap_urls.add(url)
                self.hostile.report(trap[0], url, trap[1])
                continue
            if self._may_schedule(url):
                yield scrapy.Request(  # not response.follow: it would decode the page by its declared charset
                    url, callback=self.parse, errback=self.on_error, meta={META_PATTERN_RUN: run}
                )

    def flagged_page(self, response: TextResponse, review: dict[str, Any]) -> PageItem:
        """The page item of a page flagged for review: what identifies it and why, nothing of its content."""
        return PageItem(
            url=response.url,
            canonical_url=urldefrag(response.url)[0],
            site=site_key(urlsplit(response.url).hostname or ""),
            status=response.status,
            fetched_at=utc_timestamp(),
            crawl_id=self.crawl_id,
            depth=int(response.meta.get("depth", 0)),
            content_length=int(review.get("body_length", 0)),
            content_sha256=str(review.get("text_sha256", "")),
            tor_instance=int(response.meta.get(META_TOR_INSTANCE, 0)),
            review=dict(review),
        )

    def on_error(self, failure: Any) -> None:
        self.crawler.signals.send_catch_log(signal=darkcrawl_signals.request_failed, request=failure.request)
        if isinstance(failure.value, HostileResponse):
            return  # counted and logged where it was recognised (darkcrawl/hostile/<reason>)
        name = type(failure.value).__name__
        self.crawler.stats.inc_value(f"darkcrawl/errors/{name}")
        self.logger.info("failed %s: %s: %s", failure.request.url, name, failure.getErrorMessage()[:200])
