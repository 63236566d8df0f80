import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Headers
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.fetch.content import ContentPolicyMiddleware, denied_extension, media_type


@pytest.fixture
def middleware_and_crawler():
    crawler = get_crawler(settings_dict=load_settings(environ={}).copy_to_dict())
    return ContentPolicyMiddleware.from_crawler(crawler), crawler


@pytest.mark.parametrize("url", ["http://x.onion/a.JPG", "http://x.onion/b/c.zip?x=1", "http://x.onion/v.mp4"])
def test_media_archives_are_refused_before_the_request(middleware_and_crawler, url):
    middleware, crawler = middleware_and_crawler
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request(url))
    assert crawler.stats.get_value("darkcrawl/skipped/extension") == 1


@pytest.mark.parametrize("url", ["http://x.onion/", "http://x.onion/page.php", "http://x.onion/v1.2/listing"])
def test_pages_pass(middleware_and_crawler, url):
    middleware, _ = middleware_and_crawler
    assert middleware.process_request(Request(url)) is None


def test_non_text_content_type_stops_the_download_at_the_headers(middleware_and_crawler):
    middleware, crawler = middleware_and_crawler
    request = Request("http://x.onion/download")
    with pytest.raises(StopDownload):
        middleware.headers_received(Headers({"Content-Type": "image/jpeg"}), 0, request, None)
    middleware.headers_received(Headers({"Content-Type": "text/html; charset=utf-8"}), 0, request, None)
    assert crawler.stats.get_value("darkcrawl/skipped/content_type") == 1


def test_helpers():
    assert media_type("Text/HTML; charset=UTF-8") == "text/html"
    assert denied_extension("http://x/a.tar.gz", frozenset({"gz"})) == "gz"
    assert denied_extension("http://x/dir.d/", frozenset({"d"})) is None
