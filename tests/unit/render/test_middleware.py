import gzip
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.fetch.encoding import EncodingMiddleware
from crawler.fetch.limits import BoundedCompressionMiddleware
from crawler.lab.special.jsgate import gate_page, index_page
from crawler.render.middleware import RenderGateMiddleware, RenderMiddleware

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
OTHER = "sp3k262uwy4r2k3ycr5awluarykdpag6a7y33jxop4cs2lu5uz5sseqd.onion"


def crawler_for(render_sites=(), **overrides):
    values = {"DARKCRAWL_RENDER": True, "DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050", **overrides}
    settings = load_settings(environ={}, overrides=values)
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    crawler.spider = SimpleNamespace(render_sites=set(render_sites))
    return crawler


def make(render_sites=(), **overrides):
    crawler = crawler_for(render_sites, **overrides)
    return RenderMiddleware.from_crawler(crawler), crawler


def make_gate(**overrides):
    crawler = crawler_for(**overrides)
    return RenderGateMiddleware.from_crawler(crawler), crawler


def test_off_unless_rendering_is_on():
    with pytest.raises(NotConfigured):
        make(DARKCRAWL_RENDER=False)
    with pytest.raises(NotConfigured):
        make_gate(DARKCRAWL_RENDER=False)
    with pytest.raises(NotConfigured):
        make_gate(DARKCRAWL_RENDER_JS_GATES=False)


def test_requests_are_rendered_by_meta_site_list_or_seed_option():
    middleware, crawler = make(render_sites={OTHER}, DARKCRAWL_RENDER_SITES=[ONION.upper()])
    for url, meta, reason in [
        (f"http://{ONION}/a", {}, "site"),  # DARKCRAWL_RENDER_SITES
        (f"http://{OTHER}/b", {}, "site"),  # a seed marked render=1
        ("http://yes.example/", {"darkcrawl_render": True}, "request"),
    ]:
        request = Request(url, meta=meta)
        middleware.process_request(request)
        assert request.meta["playwright"] is True and request.meta["darkcrawl_render_reason"] == reason
    forbidden = Request(f"http://{ONION}/c", meta={"darkcrawl_render": False})
    middleware.process_request(forbidden)
    assert "playwright" not in forbidden.meta
    assert crawler.stats.get_value("darkcrawl/render/requested/site") == 2


def test_a_js_gate_is_sent_once_to_the_browser_and_never_again():
    middleware, _ = make()
    gate, crawler = make_gate()
    request = Request(f"http://{ONION}/gate", meta={"depth": 1})
    middleware.process_request(request)
    assert "playwright" not in request.meta
    plain = HtmlResponse(request.url, body=gate_page(), request=request)
    retry = gate.process_response(request, plain)
    assert isinstance(retry, Request) and retry.dont_filter and retry.meta["depth"] == 1
    middleware.process_request(retry)
    assert retry.meta["playwright"] is True and retry.meta["darkcrawl_render_reason"] == "js_gate"
    rendered = HtmlResponse(retry.url, body=gate_page(), request=retry, flags=["playwright"])
    assert gate.process_response(retry, rendered) is rendered  # still a gate once rendered: kept as it is
    assert crawler.stats.get_value("darkcrawl/render/js_gate/noscript_warning") == 1


def test_pages_with_content_stay_plain():
    gate, _ = make_gate()
    request = Request(f"http://{ONION}/")
    response = HtmlResponse(request.url, body=index_page(), request=request)
    assert gate.process_response(request, response) is response


def test_a_compressed_gate_page_is_judged_by_its_markup_on_its_way_back():
    """The response passes the configured middlewares from the highest priority down: the gate must come after
    decompression and decoding (it once ran before them and read gzip bytes), and before meta refresh."""
    crawler = crawler_for()
    chain = {path: priority for path, priority in crawler.settings.getdict("DOWNLOADER_MIDDLEWARES").items()
             if priority is not None}
    gate_at = chain["crawler.render.middleware.RenderGateMiddleware"]
    assert chain["crawler.fetch.limits.BoundedCompressionMiddleware"] > gate_at
    assert chain["crawler.fetch.encoding.EncodingMiddleware"] > gate_at
    assert crawler.settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")[
        "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] < gate_at
    decompress = BoundedCompressionMiddleware.from_crawler(crawler)
    decode = EncodingMiddleware()
    gate = RenderGateMiddleware.from_crawler(crawler)
    request = Request(f"http://{ONION}/gate")
    decompress.process_request(request)
    response = Response(request.url, body=gzip.compress(gate_page()), request=request,
                        headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
    def priority(middleware):
        return chain[f"{type(middleware).__module__}.{type(middleware).__name__}"]

    for middleware in sorted((decompress, decode, gate), key=priority, reverse=True):
        result = middleware.process_response(request, response)
        if isinstance(result, Request):
            break
        response = result
    assert isinstance(result, Request) and result.meta["darkcrawl_render_reason"] == "js_gate"
