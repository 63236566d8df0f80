"""Cookie handling never reaches the network: Scrapy's public-suffix lookups use tldextract's bundled list."""

from __future__ import annotations

import socket

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from tldextract import TLDExtract

from crawler.config import load_settings
from crawler.fetch.cookies import OfflineCookiesMiddleware

SITE = "http://shop.example.onion/"


@pytest.fixture
def name_lookups(monkeypatch):
    """Every name lookup attempted, refused (this machine has no internet; a crawler must not even ask)."""
    lookups: list[str] = []

    def refuse(host, *args, **kwargs):
        lookups.append(str(host))
        raise socket.gaierror("name lookups are refused in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return lookups


@pytest.fixture
def stock_extractor(monkeypatch, tmp_path):
    """Scrapy's extractor as a fresh process has it: tldextract's defaults, with an empty cache."""
    monkeypatch.setattr(scrapy_cookies, "_split_domain", TLDExtract(cache_dir=str(tmp_path / "tld-cache"),
                                                                     include_psl_private_domains=True))


def cookie_response(domain: str) -> HtmlResponse:
    return HtmlResponse(SITE, body=b"<p>hi</p>", request=Request(SITE),
                        headers={"Set-Cookie": f"session=1; Domain={domain}; Path=/"})


def test_the_stock_extractor_would_download_the_suffix_list(stock_extractor, name_lookups):
    # what this module prevents: without it, the first cookie makes a name lookup outside Tor
    assert scrapy_cookies._is_public_domain("example.onion") is False
    assert name_lookups, "tldextract no longer downloads by default: crawler/fetch/cookies.py may be unnecessary"


def test_darkcrawl_cookies_make_no_name_lookup(stock_extractor, name_lookups):
    settings = load_settings(environ={})
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.cookies.CookiesMiddleware"] is None
    assert "crawler.fetch.cookies.OfflineCookiesMiddleware" in middlewares
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    middleware = OfflineCookiesMiddleware.from_crawler(crawler)
    for domain in ("example.onion", "onion", "github.io"):
        middleware.process_response(Request(SITE), cookie_response(domain))
    follow_up = Request(SITE + "next")
    middleware.process_request(follow_up)
    assert name_lookups == []
    # the bundled list still answers: a cookie for the whole .onion suffix is kept to its own host only
    assert follow_up.headers.get("Cookie") is not None
    assert scrapy_cookies._is_public_domain("onion") and not scrapy_cookies._is_public_domain("example.onion")


def test_a_scrapy_without_the_extractor_stops_the_crawl_instead_of_leaking(monkeypatch):
    monkeypatch.delattr(scrapy_cookies, "_split_domain")
    crawler = get_crawler(settings_dict=load_settings(environ={}).copy_to_dict())
    with pytest.raises(RuntimeError, match="must be adapted"):
        OfflineCookiesMiddleware.from_crawler(crawler)
