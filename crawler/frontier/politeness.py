"""Downloader middleware: per-site concurrency and delay held across every worker of a distributed crawl.

Scrapy's own per-domain limits (``CONCURRENT_REQUESTS_PER_DOMAIN``, ``DOWNLOAD_DELAY``) hold within one process; ten
workers would hit a site ten times as hard. Before a request is downloaded this middleware takes a *site token* in
Redis: at most ``CONCURRENT_REQUESTS_PER_DOMAIN`` tokens per site across all workers, a new one not before
``DOWNLOAD_DELAY`` (jittered like Scrapy's) after the previous one was taken. A token is given back when the response
or the failure comes back, and expires by itself after ``DOWNLOAD_TIMEOUT`` plus a margin, so a killed worker's
tokens do not block a site. The clock is Redis's (``TIME``), the same for every host.

Scrapy's own per-slot delay would come on top, *after* the token is granted (downloader middlewares run before a
request enters its slot), so a worker could send a request late while another worker, granted the next token, sends
its own: the site would see two requests closer than the delay. When the middleware is on, the downloader's default
slot delay is therefore set to 0 at spider open, as Scrapy's AutoThrottle sets it: the delay is Redis's alone. Like
Scrapy's, it separates the moments requests are handed to the downloader; a request whose Tor circuit takes longer
than the delay to build reaches the site late, so the site can see a shorter gap after it (docs/distributed.md).

The wait is an ``asyncio.sleep`` on the reactor's loop, with the asyncio Redis client: nothing blocks. Sites stay
sticky to one tor instance within a worker through the routing middleware's stable hash (crawler/tor/routing.py).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.identity import META_SITE_TOKEN, site_key

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response


# KEYS: tokens(site), next(site). ARGV: token, limit, delay ms, token ttl ms. Returns 0 (taken) or ms to wait.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then return nxt - now end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 50 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], now + tonumber(ARGV[3]), 'PX', ARGV[3]) end
return 0
"""


class SitePolitenessMiddleware:
    """Take a site token before each download and give it back after; see the module docstring."""

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        url = settings.get("DARKCRAWL_REDIS_URL")
        if not url or not settings.getbool("DARKCRAWL_REDIS_POLITENESS"):
            raise NotConfigured  # single-host crawl (Scrapy holds the limits itself), or switched off
        import redis.asyncio

        self.client = redis.asyncio.Redis.from_url(url)
        self.acquire_script = self.client.register_script(ACQUIRE)
        self.prefix = settings.get("DARKCRAWL_REDIS_PREFIX")
        self.limit = max(settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"), 1)
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER", 0.5)
        self.token_ttl_ms = int((settings.getfloat("DOWNLOAD_TIMEOUT") + 60) * 1000)
        self.stats = crawler.stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SitePolitenessMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider: Spider | None = None) -> None:
        """Leave the delay to Redis: no second, per-worker delay after the token (see the module docstring)."""
        engine = self.crawler.engine
        if engine is not None:
            engine.downloader._delay = 0.0  # the default delay of new slots; Scrapy's AutoThrottle sets it the same way

    def _keys(self, site: str) -> list[str]:
        return [f"{self.prefix}:site:{site}:tokens", f"{self.prefix}:site:{site}:next"]

    def _delay_ms(self) -> int:
        if self.delay <= 0:
            return 0
        low, high = max(1 - self.jitter, 0), 1 + self.jitter
        return int(self.delay * random.uniform(low, high) * 1000)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        site = site_key(urlsplit(request.url).hostname or "")
        token = uuid.uuid4().hex
        waited = 0
        while True:
            wait_ms = int(
                await self.acquire_script(
                    keys=self._keys(site), args=[token, self.limit, self._delay_ms(), self.token_ttl_ms]
                )
            )
            if wait_ms <= 0:
                break
            waited += wait_ms
            await asyncio.sleep(min(wait_ms, 1000) / 1000)
        if waited and self.stats is not None:
            self.stats.inc_value("darkcrawl/politeness/waited_ms", waited)
        request.meta[META_SITE_TOKEN] = (site, token)

    async def _give_back(self, request: Request) -> None:
        taken = request.meta.pop(META_SITE_TOKEN, None)
        if taken:
            site, token = taken
            await self.client.zrem(self._keys(site)[0], token)

    async def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        await self._give_back(request)
        return response

    async def process_exception(self, request: Request, exception: BaseException, spider: Spider | None = None) -> None:
        await self._give_back(request)
        return None
