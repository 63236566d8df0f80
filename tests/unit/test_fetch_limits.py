"""The limit logic of crawler/fetch/limits.py and the spider's link-trap guards, on the hostile site's own bodies."""

from __future__ import annotations

import logging
import tracemalloc

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.fetch.encoding import response_html
from crawler.fetch.limits import (
    BoundedCompressionMiddleware,
    HostileResponse,
    HostileResponseMiddleware,
    ResponseTooSlowError,
    path_repeats,
    pattern_run,
    url_pattern,
)
from crawler.lab.special import hostile
from crawler.seeds import Seed
from pipelines.extract.signals import extract_signals
from spiders.onion import OnionSpider, absolute_links

SITE = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
BASE = f"http://{SITE}"


def crawler_for(**overrides):
    settings = load_settings(environ={}, overrides={"DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050", **overrides})
    return get_crawler(OnionSpider, settings_dict=settings.copy_to_dict())


def test_url_pattern_folds_numbers_and_query_values():
    assert url_pattern(f"{BASE}/trap/calendar/2026/11") == url_pattern(f"{BASE}/trap/calendar/1999/2")
    assert url_pattern(f"{BASE}/product/17") != url_pattern(f"{BASE}/vendor/17")
    assert url_pattern(f"{BASE}/list?page=2&sort=new") == url_pattern(f"{BASE}/list?sort=old&page=9")
    assert url_pattern(f"{BASE}/list?page=2") != url_pattern(f"{BASE}/list")


def test_pattern_run_grows_along_a_chain_and_resets_elsewhere():
    month = f"{BASE}/trap/calendar/2026/11"
    assert pattern_run(f"{BASE}/trap/calendar/2026/12", month, 4) == 5
    assert pattern_run(f"{BASE}/trap/calendar/2026/12/1", month, 4) == 1
    assert pattern_run(f"{BASE}/product/3", f"{BASE}/listings?page=1", 1) == 1


def test_path_repeats():
    assert path_repeats(f"{BASE}/a/b/a/b/a/b") == 3
    assert path_repeats(f"{BASE}/") == 0
    assert path_repeats(f"{BASE}/forum/thread/12") == 1


def make_hostile_middleware(**overrides):
    crawler = crawler_for(**overrides)
    return HostileResponseMiddleware.from_crawler(crawler), crawler.stats


def redirect(request: Request, location: str) -> Response:
    return Response(request.url, status=302, headers={"Location": location}, request=request)


def test_redirect_cycle_is_caught_at_once():
    middleware, stats = make_hostile_middleware()
    request = Request(f"{BASE}/redirect/cycle-b", meta={"redirect_urls": [f"{BASE}/redirect/cycle-a"],
                                                        "redirect_times": 1})
    with pytest.raises(HostileResponse) as caught:
        middleware.process_response(request, redirect(request, "/redirect/cycle-a"))
    assert caught.value.reason == "redirect_loop"
    assert stats.get_value("darkcrawl/hostile/redirect_loop") == 1


def test_redirect_chain_stops_at_redirect_max_times():
    middleware, _stats = make_hostile_middleware()
    fine = Request(f"{BASE}/redirect/loop/3", meta={"redirect_times": 3})
    assert middleware.process_response(fine, redirect(fine, "/redirect/loop/4")).status == 302  # Scrapy follows it
    request = Request(f"{BASE}/redirect/loop/5", meta={"redirect_times": 5})
    with pytest.raises(HostileResponse) as caught:
        middleware.process_response(request, redirect(request, "/redirect/loop/6"))
    assert caught.value.reason == "too_many_redirects"


def test_redirect_to_clearnet_is_refused_unless_clearnet_is_allowed():
    middleware, _stats = make_hostile_middleware()
    request = Request(f"{BASE}/redirect/clearnet")
    with pytest.raises(HostileResponse) as caught:
        middleware.process_response(request, redirect(request, hostile.CLEARNET_TARGET))
    assert caught.value.reason == "redirect_refused"
    allowed, _ = make_hostile_middleware(DARKCRAWL_ALLOW_CLEARNET=True)
    assert allowed.process_response(request, redirect(request, hostile.CLEARNET_TARGET)).status == 302
    with pytest.raises(HostileResponse):  # a redirect into the local network is never followed
        allowed.process_response(request, redirect(request, "http://127.0.0.1:9200/"))


def test_size_and_time_cancellations_become_hostile_responses_not_retries():
    middleware, stats = make_hostile_middleware()
    request = Request(f"{BASE}/big")
    cancelled = DownloadCancelledError(
        f"Expected to receive 50000000 bytes which is larger than download max size (5242880) in request {request}."
    )
    with pytest.raises(HostileResponse) as caught:
        middleware.process_exception(request, cancelled)
    assert caught.value.reason == "too_large"
    with pytest.raises(HostileResponse) as caught:
        middleware.process_exception(request, ResponseTooSlowError("took longer than 180s"))
    assert caught.value.reason == "too_slow"
    assert middleware.process_exception(request, TimeoutError()) is None  # anything else: Scrapy's retry decides
    assert stats.get_value("darkcrawl/hostile/too_large") == 1 and stats.get_value("darkcrawl/hostile/too_slow") == 1


def test_hostile_responses_are_logged_once_per_site_and_reason(caplog):
    middleware, stats = make_hostile_middleware()
    caplog.set_level(logging.DEBUG, logger="crawler.fetch.limits")
    for n in range(5):
        request = Request(f"{BASE}/redirect/loop/{n}", meta={"redirect_times": 5})
        with pytest.raises(HostileResponse):
            middleware.process_response(request, redirect(request, f"/redirect/loop/{n + 1}"))
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1 and "too_many_redirects" in warnings[0].getMessage()
    assert stats.get_value("darkcrawl/hostile/too_many_redirects") == 5


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_decompression_bombs_stop_at_download_maxsize(encoding):
    crawler = crawler_for()
    middleware = BoundedCompressionMiddleware.from_crawler(crawler)
    body = hostile.bomb(encoding, 256 << 20)  # 256 MiB inflated (the lab serves 1 GiB): 50 times the limit
    assert len(body) < 512 * 1024  # small on the wire ...
    request = Request(f"{BASE}/bomb/{encoding}")
    response = HtmlResponse(request.url, body=body, headers={"Content-Encoding": encoding}, request=request)
    tracemalloc.start()
    try:
        with pytest.raises(HostileResponse) as caught:
            middleware.process_response(request, response)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.reason == "decompressed_too_large"
    maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
    assert peak < 4 * maxsize, f"{peak} bytes allocated for a {maxsize}-byte limit: the bomb was inflated"
    assert crawler.stats.get_value("darkcrawl/hostile/decompressed_too_large") == 1


def test_spider_refuses_long_urls_and_link_chains():
    crawler = crawler_for(DARKCRAWL_MAX_PATTERN_CHAIN=3)
    spider = OnionSpider.from_crawler(crawler, seeds=[Seed(f"{BASE}/", SITE, 1)], crawl_id="c1")
    body = f'<a href="{hostile.long_url()}">x</a><a href="/ok">ok</a>'.encode()
    long_page = HtmlResponse(f"{BASE}/longurl", body=body, encoding="utf-8", request=Request(f"{BASE}/longurl"))
    followed = [request.url for request in spider.parse(long_page) if isinstance(request, Request)]
    assert followed == [f"{BASE}/ok"]
    assert crawler.stats.get_value("darkcrawl/hostile/url_too_long") == 1

    run = 1
    url = f"{BASE}/trap/calendar/2026/11"
    for _ in range(6):
        page = HtmlResponse(url, body=hostile.calendar_page(*map(int, url.rsplit("/", 2)[1:])), encoding="utf-8",
                            request=Request(url, meta={"darkcrawl_pattern_run": run}))
        nexts = [request for request in spider.parse(page) if isinstance(request, Request)
                 and request.url.count("/") == url.count("/") and "previous" not in request.url]
        if not nexts:
            break
        following = max(nexts, key=lambda request: request.meta["darkcrawl_pattern_run"])
        url, run = following.url, following.meta["darkcrawl_pattern_run"]
    assert run == 3  # the chain of months stopped at DARKCRAWL_MAX_PATTERN_CHAIN
    assert crawler.stats.get_value("darkcrawl/hostile/link_trap") >= 1


HARD_PAGES = ["/longline", "/deep", "/binary", *(f"/charset/{name}" for name in hostile.CHARSET_CASES)]


@pytest.mark.parametrize("path", HARD_PAGES)
def test_hostile_pages_are_parsed_and_extracted(path):
    if path == "/longline":
        body, content_type = hostile.long_line_page(), "text/html; charset=utf-8"
    elif path == "/deep":
        body, content_type = hostile.deep_page(), "text/html; charset=utf-8"
    elif path == "/binary":
        body, content_type = hostile.binary_body(), "text/html"
    else:
        content_type, body = hostile.CHARSET_CASES[path.rsplit("/", 1)[1]]
    response = HtmlResponse(f"{BASE}{path}", body=body, headers={"Content-Type": content_type},
                            request=Request(f"{BASE}{path}"))
    links = absolute_links(response)  # the spider's links, from the page's one parse
    signals = extract_signals(response_html(response), response.url, content_type=content_type)  # the spider's text
    if path == "/longline":
        assert links == [f"{BASE}/charset/unknown"]
        assert hostile.LONG_LINE_EMAIL in signals.emails
    elif path == "/deep":
        assert hostile.DEEP_SENTENCE in signals.text
    elif path == "/binary":
        assert isinstance(signals.text, str)
    else:
        assert signals.text.strip(), f"no text extracted from {path}"
        assert signals.title.startswith("charset "), path
