from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.lab.special.jsgate import gate_page, index_page
from crawler.render.middleware import RenderMiddleware

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
OTHER = "sp3k262uwy4r2k3ycr5awluarykdpag6a7y33jxop4cs2lu5uz5sseqd.onion"


def make(render_sites=(), **overrides):
    values = {"DARKCRAWL_RENDER": True, "DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050", **overrides}
    settings = load_settings(environ={}, overrides=values)
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    crawler.spider = SimpleNamespace(render_sites=set(render_sites))
    return RenderMiddleware.from_crawler(crawler), crawler


def test_off_unless_rendering_is_on():
    with pytest.raises(NotConfigured):
        make(DARKCRAWL_RENDER=False)


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
    middleware, crawler = make()
    request = Request(f"http://{ONION}/gate", meta={"depth": 1})
    middleware.process_request(request)
    assert "playwright" not in request.meta
    plain = HtmlResponse(request.url, body=gate_page(), request=request)
    retry = middleware.process_response(request, plain)
    assert isinstance(retry, Request) and retry.dont_filter and retry.meta["depth"] == 1
    middleware.process_request(retry)
    assert retry.meta["playwright"] is True and retry.meta["darkcrawl_render_reason"] == "js_gate"
    rendered = HtmlResponse(retry.url, body=gate_page(), request=retry, flags=["playwright"])
    assert middleware.process_response(retry, rendered) is rendered  # still a gate once rendered: kept as it is
    assert crawler.stats.get_value("darkcrawl/render/js_gate/noscript_warning") == 1


def test_pages_with_content_and_the_heuristic_switched_off_stay_plain():
    middleware, _ = make()
    request = Request(f"http://{ONION}/")
    response = HtmlResponse(request.url, body=index_page(), request=request)
    assert middleware.process_response(request, response) is response
    middleware, _ = make(DARKCRAWL_RENDER_JS_GATES=False)
    gate = HtmlResponse(request.url, body=gate_page(), request=request)
    assert middleware.process_response(request, gate) is gate
