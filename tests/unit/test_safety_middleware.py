import hashlib

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.identity import META_REVIEW
from crawler.items import PageItem
from crawler.safety.highrisk import default_terms_path, load_high_risk_terms
from crawler.safety.middleware import SafetyMiddleware
from crawler.sink.documents import page_document
from spiders.onion import OnionSpider

SITE = "darkcrawlsafetyxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"
OTHER = "darkcrawlotherxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"
SENTINEL = "darkcrawl-high-risk-sentinel-4d1f"


def make(**settings):
    values = load_settings(environ={}).copy_to_dict()
    values.update(settings)
    crawler = get_crawler(OnionSpider, settings_dict=values)
    return SafetyMiddleware.from_crawler(crawler), crawler


def html(url, body, request=None):
    return HtmlResponse(url, body=body.encode(), headers={"Content-Type": "text/html"}, request=request or Request(url))


def test_the_shipped_placeholder_list_is_working():
    terms = load_high_risk_terms()
    assert len(terms) == 1 and default_terms_path().is_file()
    assert terms.verdict(f"some text {SENTINEL.upper()} more") is not None
    assert terms.verdict("a plain market page") is None


def test_blocklisted_sites_are_refused_and_logged_once(caplog):
    middleware, crawler = make(DARKCRAWL_BLOCKLIST_HOSTS=[hashlib.md5(SITE.encode()).hexdigest()])
    with caplog.at_level("WARNING"):
        for path in ("/", "/a", "/b"):
            with pytest.raises(IgnoreRequest):
                middleware.process_request(Request(f"http://{SITE}{path}"))
    assert middleware.process_request(Request(f"http://{OTHER}/")) is None
    assert crawler.stats.get_value("darkcrawl/refused/blocklisted") == 3
    assert crawler.stats.get_value("darkcrawl/safety/blocklisted_sites") == 1
    assert len([r for r in caplog.records if "on the blocklist" in r.getMessage()]) == 1


def test_a_page_with_high_risk_terms_is_emptied_flagged_and_stops_its_site():
    middleware, crawler = make()
    body = f"<html><title>secret title</title><body><p>words {SENTINEL} words</p><a href='/next'>n</a></body></html>"
    request = Request(f"http://{SITE}/page")
    response = middleware.process_response(request, html(request.url, body, request))
    assert response.body == b""
    review = request.meta[META_REVIEW]
    assert review["reason"] == "high_risk_terms:placeholder"
    assert review["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()
    assert crawler.stats.get_value("darkcrawl/safety/flagged") == 1
    # nothing more from that site: neither new requests nor responses already in flight
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request(f"http://{SITE}/other"))
    with pytest.raises(IgnoreRequest):
        middleware.process_response(Request(f"http://{SITE}/x"), html(f"http://{SITE}/x", "<p>fine</p>"))
    assert crawler.stats.get_value("darkcrawl/refused/high_risk_site") == 2
    # other sites go on
    assert middleware.process_request(Request(f"http://{OTHER}/")) is None

    # the spider makes a page item with no content, and its document holds the review and no text
    spider = OnionSpider.from_crawler(crawler, seeds=[], crawl_id="c1")
    items = list(spider.parse(response))
    assert len(items) == 1 and isinstance(items[0], PageItem)
    document = page_document(items[0])
    assert document["review"]["reason"] == "high_risk_terms:placeholder"
    assert document["text"] == "" and document["title"] == "" and document["links_onion"] == []
    assert "secret title" not in repr(document) and SENTINEL not in repr(document)


def test_ordinary_pages_pass_untouched_and_carry_no_review():
    middleware, _ = make()
    request = Request(f"http://{SITE}/")
    response = html(request.url, "<p>a plain market page</p>", request)
    assert middleware.process_response(request, response) is response
    assert META_REVIEW not in request.meta
    binary = Response(f"http://{SITE}/bin", body=b"\x00" + SENTINEL.encode(), request=request)
    assert middleware.process_response(request, binary) is binary


def test_min_terms_and_operator_lists(tmp_path):
    terms = tmp_path / "terms.yaml"
    terms.write_text("- category: csam\n  terms: [alpha term, beta term]\n")
    middleware, _ = make(DARKCRAWL_HIGH_RISK_TERMS=[str(terms)], DARKCRAWL_HIGH_RISK_MIN_TERMS=2)
    request = Request(f"http://{SITE}/one")
    assert middleware.process_response(request, html(request.url, "<p>alpha term</p>", request)).body
    request = Request(f"http://{SITE}/two")
    response = html(request.url, "<p>Alpha Term and BETA TERM</p>", request)
    assert middleware.process_response(request, response).body == b""
    assert request.meta[META_REVIEW]["categories"] == ["csam"]
    assert request.meta[META_REVIEW]["terms_matched"] == 2


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Alpha</p>\n\n<p>term</p>",
        "<td>alpha</td><td>\tTERM</td>",
        "alpha&nbsp;term",
        "alpha \u2003 term",
        "<li>alpha\r\n   term</li>",
    ],
)
def test_a_term_split_by_markup_or_odd_spaces_still_stops_the_site(tmp_path, markup):
    """The middleware matches the page's cleaned text as extraction does (``normalised=True`` skips a whitespace
    pass): whatever whitespace the markup puts between a term's words, the term is found, as in the raw text."""
    from pipelines.extract.text import parse_document

    terms = tmp_path / "terms.yaml"
    terms.write_text("- category: csam\n  terms: [alpha term]\n")
    middleware, _ = make(DARKCRAWL_HIGH_RISK_TERMS=[str(terms)])
    page = f"<html><body>{markup}</body></html>"
    request = Request(f"http://{SITE}/split")
    assert middleware.process_response(request, html(request.url, page, request)).body == b""
    cleaned = parse_document(page, request.url, "text/html").text
    assert middleware.terms.verdict(cleaned, normalised=True) == middleware.terms.verdict(cleaned) is not None


@pytest.mark.parametrize("charset", ["cp037", "rot13", "base64", "unicode_escape"])
def test_a_codec_only_charset_does_not_hide_high_risk_terms(charset):
    """cp037 decoded the page to garbage, rot13 to nothing: the policy missed the terms that extraction would index."""
    from crawler.fetch.encoding import response_html
    from pipelines.extract import extract_signals

    body = f"<html><head><meta charset='{charset}'></head><body><p>words {SENTINEL} words</p></body></html>"
    for headers in ({"Content-Type": "text/html"}, {"Content-Type": f"text/html; charset={charset}"}):
        middleware, _crawler = make()
        request = Request(f"http://{SITE}/page")
        response = HtmlResponse(request.url, body=body.encode(), headers=headers, request=request)
        assert SENTINEL in extract_signals(response_html(response), request.url).text  # what extraction sees
        assert middleware.process_response(request, response).body == b""
        assert request.meta[META_REVIEW]["reason"] == "high_risk_terms:placeholder"
