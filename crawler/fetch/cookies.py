"""Cookies without a network lookup: Scrapy's cookie middleware, with its public-suffix list kept offline.

Scrapy's ``CookiesMiddleware`` asks ``tldextract`` whether a cookie's domain is a public suffix. Out of the box
``tldextract`` downloads the list from ``publicsuffix.org`` (falling back to GitHub) the first time a process needs
it: a DNS query and an HTTPS connection outside Tor, from the crawler's own address, proven by the leak tests
(tests/integration/test_leaks.py). :class:`OfflineCookiesMiddleware` replaces the stock middleware (see
``DOWNLOADER_MIDDLEWARES``) and points Scrapy's extractor at the list bundled with ``tldextract`` before any cookie is
handled. Cookies are still keyed by domain, so none crosses sites.

Offers :class:`OfflineCookiesMiddleware` and :func:`offline_suffix_extractor`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares import cookies as scrapy_cookies
from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from tldextract import TLDExtract

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

SCRAPY_EXTRACTOR_NAME = "_split_domain"  # the module-level extractor Scrapy's cookie middleware calls


def offline_suffix_extractor() -> TLDExtract:
    """An extractor that reads only the public-suffix snapshot shipped with tldextract: no download, no cache file."""
    return TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True, include_psl_private_domains=True)


class OfflineCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie middleware whose public-suffix checks never reach the network."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OfflineCookiesMiddleware:
        current = getattr(scrapy_cookies, SCRAPY_EXTRACTOR_NAME, None)
        if not isinstance(current, TLDExtract):
            # a Scrapy upgrade moved the extractor: refuse to run rather than let it download the list outside Tor
            raise RuntimeError(
                "scrapy.downloadermiddlewares.cookies has no tldextract extractor named "
                f"{SCRAPY_EXTRACTOR_NAME!r} any more; crawler/fetch/cookies.py must be adapted to this Scrapy version "
                "before crawling (otherwise the public-suffix list would be downloaded outside Tor)"
            )
        if current.suffix_list_urls:
            setattr(scrapy_cookies, SCRAPY_EXTRACTOR_NAME, offline_suffix_extractor())
        middleware = super().from_crawler(crawler)
        assert isinstance(middleware, OfflineCookiesMiddleware)
        return middleware
