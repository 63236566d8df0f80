from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.referer import RefererMiddleware
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.fetch.privacy import IgnoreSiteReferrerPolicyMiddleware

A = "http://a.onion/page"
B = "http://b.onion/other"


def test_the_crawl_sends_no_referer_to_another_site_whatever_the_site_asks():
    crawler = get_crawler(settings_dict=load_settings(environ={}).copy_to_dict())
    referer = RefererMiddleware.from_crawler(crawler)
    privacy = IgnoreSiteReferrerPolicyMiddleware.from_crawler(crawler)
    response = HtmlResponse(A, body=b"<a href='x'>x</a>", headers={"Referrer-Policy": "unsafe-url"}, request=Request(A))
    # without the middleware, the site's header would win
    assert referer.policy(response, Request(B)).referrer(A, B) == A
    response = privacy.process_response(Request(A), response)
    assert b"Referrer-Policy" not in response.headers
    assert referer.policy(response, Request(B)).referrer(A, B) is None
    assert referer.policy(response, Request("http://a.onion/next")).referrer(A, "http://a.onion/next") == A
    assert crawler.stats.get_value("darkcrawl/privacy/referrer_policy_ignored") == 1
