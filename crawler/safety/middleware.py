"""Downloader middleware that keeps a crawl away from blocklisted sites and stops a site when high-risk terms appear.

* **Before every request** (seeds, followed links, redirects alike): a host on the blocklist
  (``DARKCRAWL_BLOCKLIST_FILES``, ``DARKCRAWL_BLOCKLIST_HOSTS``; plain or hashed hostnames, see
  :mod:`crawler.safety.blocklist`) is refused, as is any site the content policy stopped earlier in this crawl.
  Counted as ``darkcrawl/refused/blocklisted`` and ``darkcrawl/refused/high_risk_site``; logged once per site.
* **On every text response**, before the spider or any pipeline sees it: when the page's clean text holds at least
  ``DARKCRAWL_HIGH_RISK_MIN_TERMS`` of the terms in ``DARKCRAWL_HIGH_RISK_TERMS`` (see :mod:`crawler.safety.highrisk`),
  the body is dropped from the response, the request's ``meta["darkcrawl_review"]`` records why (the spider turns it
  into a page document with URL, hashes and reason, no text), and the site is stopped for the rest of the crawl.
  Requests of a stopped site already waiting in the downloader are refused by the download handler (signal
  :data:`site_stopped`), and responses already in flight are dropped. Counted as ``darkcrawl/safety/flagged``.

It sits first in the request chain (priority 50) and therefore last in the response chain, after decompression and
redirects, right before the spider.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import TextResponse

from crawler.fetch.parsed import parsed_response
from crawler.identity import META_REVIEW, site_key
from crawler.items import utc_timestamp
from crawler.safety.blocklist import Blocklist, load_blocklists
from crawler.safety.highrisk import HighRiskTerms, load_high_risk_terms

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.signalmanager import SignalManager
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Signal sent with ``site=<site key>`` when the content policy stops a site. Requests of that site may already wait in
# the downloader's queue (they passed this middleware earlier); the download handler listens and refuses them.
site_stopped = object()


def policy_from_settings(settings: BaseSettings) -> tuple[Blocklist, HighRiskTerms]:
    """Load the blocklists and high-risk terms the settings name. Raises :class:`crawler.errors.UsageError` naming a
    bad file and line (the crawl CLI calls this before starting, so a bad file is a one-line error)."""
    blocklist = load_blocklists(
        settings.getlist("DARKCRAWL_BLOCKLIST_FILES"), settings.getlist("DARKCRAWL_BLOCKLIST_HOSTS")
    )
    terms = load_high_risk_terms(
        settings.getlist("DARKCRAWL_HIGH_RISK_TERMS"), settings.getint("DARKCRAWL_HIGH_RISK_MIN_TERMS")
    )
    return blocklist, terms


def page_text(response: TextResponse, request: Request | None = None) -> str:
    """The clean text of *response*, as the extraction stage reads it (so the terms match what would be indexed):
    the page's one parse (:func:`crawler.fetch.parsed.parsed_response`), which the spider and extraction reuse."""
    return parsed_response(response, request).text


class SafetyMiddleware:
    """Refuse blocklisted and stopped sites; flag a page with high-risk terms and stop its site."""

    def __init__(
        self, stats: StatsCollector, blocklist: Blocklist, terms: HighRiskTerms, signals: SignalManager | None = None
    ):
        self.stats = stats
        self.signals = signals
        self.blocklist = blocklist
        self.terms = terms
        self.stopped: dict[str, str] = {}  # site -> URL of the page that stopped it
        self.logged_blocked: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafetyMiddleware:
        assert crawler.stats is not None
        blocklist, terms = policy_from_settings(crawler.settings)
        if blocklist:
            logger.info("blocklist: %d entries", len(blocklist))
        return cls(crawler.stats, blocklist, terms, crawler.signals)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        host = urlsplit(request.url).hostname or ""
        site = site_key(host)
        if site in self.stopped:
            self.stats.inc_value("darkcrawl/refused/high_risk_site")
            raise IgnoreRequest(f"not requesting {request.url}: its site was stopped by the content policy")
        source = self.blocklist.match(host)
        if source is not None:
            self.stats.inc_value("darkcrawl/refused/blocklisted")
            if site not in self.logged_blocked:
                self.logged_blocked.add(site)
                self.stats.inc_value("darkcrawl/safety/blocklisted_sites")
                logger.warning("not crawling %s: it is on the blocklist (%s)", site, source)
            raise IgnoreRequest(f"not requesting {request.url}: blocklisted ({source})")

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        site = site_key(urlsplit(response.url).hostname or "")
        if site in self.stopped:
            self.stats.inc_value("darkcrawl/refused/high_risk_site")
            raise IgnoreRequest(f"dropping {response.url}: its site was stopped by the content policy")
        if not isinstance(response, TextResponse) or not len(self.terms):
            return response
        text = page_text(response, request)
        verdict = self.terms.verdict(text, normalised=True)  # the cleaned text: no whitespace pass to make
        if verdict is None:
            return response
        self.stopped[site] = response.url
        if self.signals is not None:
            self.signals.send_catch_log(site_stopped, site=site)
        self.stats.inc_value("darkcrawl/safety/flagged")
        logger.warning(
            "stopped crawling %s: %s on %s; the page is flagged for review, its text was not kept",
            site,
            verdict.reason,
            response.url,
        )
        review: dict[str, Any] = {
            "reason": verdict.reason,
            "categories": list(verdict.categories),
            "terms_matched": verdict.terms_matched,
            "flagged_at": utc_timestamp(),
            "body_sha256": hashlib.sha256(response.body).hexdigest(),
            "body_length": len(response.body),
            "text_sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
        }
        request.meta[META_REVIEW] = review
        return response.replace(body=b"")
