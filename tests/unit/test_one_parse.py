"""One HTML parse per page (issue #16): a fixture page through the render gate, the encoding middleware, the content
policy, the spider and the extraction stage, in process, parses its markup exactly once; the page's signals are the
ones extraction finds when it parses the markup itself."""

from __future__ import annotations

import asyncio
from typing import Any

import lxml.html
import parsel.selector
import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

import pipelines.extract.text as text_module
from crawler.config import load_settings
from crawler.fetch.encoding import EncodingMiddleware
from crawler.items import PageItem
from crawler.lab.sites import build_site
from crawler.lab.sites.market import listing_path
from crawler.render.middleware import RenderGateMiddleware
from crawler.safety.middleware import SafetyMiddleware
from crawler.seeds import Seed
from pipelines.extract import default_config, extract_signals
from pipelines.extract.pool import Outcome
from pipelines.extract.text import ParsedDocument
from pipelines.extraction import ExtractionPipeline
from spiders.onion import OnionSpider

SITE = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"


class InProcessPool:
    """The extraction pool's interface, extracting in this process as a worker would (so its parses are counted)."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []

    async def extract(self, body: Any, url: str | None, content_type: str | None = None) -> Outcome:
        self.bodies.append(body)
        signals = extract_signals(body, url, content_type=content_type, config=default_config())
        return Outcome("ok", 0, signals)

    def close(self) -> None:
        pass


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTML parse made from now on: selectolax (the project's parser), parsel and lxml (the spider's before)."""
    made: list[str] = []
    lexbor = text_module.HTMLParser

    def counted_lexbor(html: str) -> Any:
        made.append("selectolax")
        return lexbor(html)

    def counting(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            made.append(name)
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(text_module, "HTMLParser", counted_lexbor)
    monkeypatch.setattr(parsel.selector, "create_root_node", counting("parsel", parsel.selector.create_root_node))
    monkeypatch.setattr(lxml.html, "fromstring", counting("lxml", lxml.html.fromstring))
    monkeypatch.setattr(lxml.html, "document_fromstring", counting("lxml", lxml.html.document_fromstring))
    return made


def crawl_one(body: bytes, url: str) -> tuple[PageItem, list[Request], InProcessPool]:
    overrides = {"DARKCRAWL_RENDER": True, "DARKCRAWL_RENDER_JS_GATES": True, "DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050"}
    settings = load_settings(environ={}, overrides=overrides).copy_to_dict()
    crawler = get_crawler(OnionSpider, settings_dict=settings)
    spider = OnionSpider.from_crawler(crawler, seeds=[Seed(f"http://{SITE}/", SITE, 1)], crawl_id="c1")
    crawler.spider = spider
    gate, safety = RenderGateMiddleware.from_crawler(crawler), SafetyMiddleware.from_crawler(crawler)
    request = Request(url, meta={"depth": 1})
    response: Any = HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    # the downloader middlewares' response chain, in Scrapy's order (585, 582, 50), then the engine sets the request
    response = EncodingMiddleware().process_response(request, response)
    response = gate.process_response(request, response)
    assert isinstance(response, HtmlResponse), "the fixture page is not a JavaScript gate"
    response = safety.process_response(request, response)
    response.request = request
    output = list(spider.parse(response))
    items = [entry for entry in output if isinstance(entry, PageItem)]
    assert len(items) == 1
    pool = InProcessPool()
    item = asyncio.run(ExtractionPipeline(pool).process_item(items[0]))  # type: ignore[arg-type]
    return item, [entry for entry in output if isinstance(entry, Request)], pool


def test_a_crawled_page_is_parsed_once(parses: list[str]) -> None:
    url = f"http://{SITE}{listing_path(1)}"
    body = build_site("market").pages[listing_path(1)].body
    item, requests, pool = crawl_one(body, url)
    assert parses == ["selectolax"]
    assert isinstance(pool.bodies[0], ParsedDocument) and pool.bodies[0].tree is None  # no markup to the worker
    assert requests and item.links_onion
    # the same signals as extraction parsing the markup itself (the extraction workers before #16)
    reference = extract_signals(item.html, url, content_type="text/html; charset=utf-8", config=default_config())
    assert item.signals == reference.to_dict()
    assert any(vendor["source"] == "rule:shadowstall" for vendor in item.signals["vendors"])  # a CSS vendor rule


def test_the_parse_is_not_kept_on_the_item(parses: list[str]) -> None:
    url = f"http://{SITE}/"
    item, _requests, _pool = crawl_one(build_site("market").pages["/"].body, url)
    assert len(parses) == 1
    assert not hasattr(item, "_darkcrawl_extraction_input")  # taken by the extraction stage, never indexed


def test_the_parse_is_dropped_once_the_spider_is_done_with_it(parses: list[str]) -> None:
    """A page may wait a while for an extraction worker (workers run at a lower CPU priority), its response alive in
    Scrapy's scraper meanwhile: its parse tree, several times the page's size, is not kept with it (the crawl
    process's peak RSS was 430 MB with it, 230 MB without, on the benchmark site)."""
    from crawler.fetch.parsed import _PARSES, parsed_response

    url = f"http://{SITE}{listing_path(1)}"
    crawler = get_crawler(OnionSpider, settings_dict=load_settings(environ={}).copy_to_dict())
    spider = OnionSpider.from_crawler(crawler, seeds=[Seed(f"http://{SITE}/", SITE, 1)], crawl_id="c1")
    crawler.spider = spider
    request = Request(url, meta={"depth": 1})
    response = HtmlResponse(url, body=build_site("market").pages[listing_path(1)].body,
                            headers={"Content-Type": "text/html; charset=utf-8"}, request=request)
    assert parsed_response(response, request).tree is not None and request in _PARSES  # the middlewares' reading
    output = spider.parse(response)
    item = next(output)
    assert isinstance(item, PageItem) and request not in _PARSES  # dropped before the item leaves the spider
    assert any(isinstance(entry, Request) for entry in output)  # the links were read from it first
    assert parses == ["selectolax"]
