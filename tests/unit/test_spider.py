from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.items import PageItem
from crawler.seeds import Seed
from spiders.onion import OnionSpider, absolute_links, canonical_url

SITE = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
OTHER = "sp3k262uwy4r2k3ycr5awluarykdpag6a7y33jxop4cs2lu5uz5sseqd.onion"

PAGE = f"""<html><head><title>Shop</title><link rel="canonical" href="/shop"></head><body>
<a href="/a">a</a> <a href="b?x=1#frag">b</a> <a href="http://{OTHER}/">other onion</a>
<a href="https://example.com/">clearnet</a> <a href="javascript:void(0)">js</a> <a href="mailto:x@y">m</a>
<a href="/a">duplicate</a> <a href="http://[broken">broken</a>
</body></html>"""


def make_spider(**settings):
    crawler = get_crawler(OnionSpider, settings_dict={**load_settings(environ={}).copy_to_dict(), **settings})
    return OnionSpider.from_crawler(crawler, seeds=[Seed(f"http://{SITE}/", SITE, 1)], crawl_id="c1")


def response(url=f"http://{SITE}/dir/", body=PAGE, headers=None):
    request = Request(url, meta={"depth": 1, "darkcrawl_tor_instance": 0})
    return HtmlResponse(url, body=body.encode(), encoding="utf-8", request=request, headers=headers or {
        "Content-Type": "text/html; charset=utf-8", "Server": "nginx", "Set-Cookie": "secret=1"})


def test_links_are_absolute_unique_and_http_only():
    links = absolute_links(response())
    assert links == [f"http://{SITE}/a", f"http://{SITE}/dir/b?x=1", f"http://{OTHER}/", "https://example.com/"]


def test_canonical_url_stays_on_site():
    assert canonical_url(response()) == f"http://{SITE}/shop"
    foreign = PAGE.replace('href="/shop"', f'href="http://{OTHER}/x"')
    assert canonical_url(response(body=foreign)) == f"http://{SITE}/dir/"


def test_parse_yields_a_page_item_and_follows_only_the_seed_site():
    spider = make_spider()
    output = list(spider.parse(response()))
    items = [entry for entry in output if isinstance(entry, PageItem)]
    requests = [entry for entry in output if isinstance(entry, Request)]
    assert len(items) == 1
    item = items[0]
    assert item.site == SITE and item.status == 200 and item.crawl_id == "c1" and item.depth == 1
    assert item.links_onion == [f"http://{SITE}/a", f"http://{SITE}/dir/b?x=1", f"http://{OTHER}/"]
    assert item.links_clearnet == ["https://example.com/"]
    assert item.headers == {"server": "nginx", "content-type": "text/html; charset=utf-8"}  # no cookies kept
    assert "<title>Shop</title>" in item.html
    assert [request.url for request in requests] == [f"http://{SITE}/a", f"http://{SITE}/dir/b?x=1"]


def test_new_onions_followed_when_asked():
    spider = make_spider(DARKCRAWL_FOLLOW_NEW_ONIONS=True)
    requests = [entry for entry in spider.parse(response()) if isinstance(entry, Request)]
    assert f"http://{OTHER}/" in [request.url for request in requests]
    assert "https://example.com/" not in [request.url for request in requests]


def test_page_budgets_per_site_and_total():
    spider = make_spider(DARKCRAWL_MAX_PAGES_PER_SITE=2)
    assert spider._may_schedule(f"http://{SITE}/1")
    assert spider._may_schedule(f"http://{SITE}/2")
    assert not spider._may_schedule(f"http://{SITE}/3")
    assert spider._may_schedule(f"http://{OTHER}/1")
    assert not spider._may_schedule(f"http://{OTHER}/1")  # already scheduled
    spider = make_spider(DARKCRAWL_MAX_PAGES=1)
    assert spider._may_schedule(f"http://{SITE}/1")
    assert not spider._may_schedule(f"http://{OTHER}/1")


def test_binary_response_is_skipped_not_parsed():
    spider = make_spider()
    binary = Response(f"http://{SITE}/x", body=b"\x00\x01", request=Request(f"http://{SITE}/x"))
    assert list(spider.parse(binary)) == []
    assert spider.crawler.stats.get_value("darkcrawl/skipped/not_text") == 1


def test_seeds_only_when_links_are_not_followed():
    spider = make_spider(DARKCRAWL_FOLLOW_LINKS=False)
    output = list(spider.parse(response()))
    assert [type(entry) for entry in output] == [PageItem]


def test_a_page_declaring_a_codec_only_charset_keeps_its_text_and_links():
    """``<meta charset="rot13">`` made response.text raise (page and links lost); the spider decodes as browsers do."""
    for label in ("rot13", "base64", "zlib", "unicode_escape", "cp037"):
        body = PAGE.replace("<head>", f'<head><meta charset="{label}">')
        page = HtmlResponse(f"http://{SITE}/dir/", body=body.encode(), headers={"Content-Type": "text/html"},
                            request=Request(f"http://{SITE}/dir/", meta={"depth": 1}))
        output = list(make_spider().parse(page))
        item = next(entry for entry in output if isinstance(entry, PageItem))
        assert "<title>Shop</title>" in item.html, label
        assert f"http://{SITE}/a" in item.links_onion, label
        assert [entry.url for entry in output if isinstance(entry, Request)] == [
            f"http://{SITE}/a", f"http://{SITE}/dir/b?x=1"], label


def test_base_href_resolves_relative_links():
    body = PAGE.replace("<head>", f'<head><base href="http://{SITE}/other/">')
    assert f"http://{SITE}/other/b?x=1" in absolute_links(response(body=body))
