"""The Redis politeness middleware is the only delay in a distributed crawl: Scrapy's per-slot delay is switched off
when it is on (otherwise a request could leave late, after the next token was granted to another worker)."""

from __future__ import annotations

import types

import pytest
from scrapy import Request
from scrapy.core.downloader import Downloader
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.frontier.politeness import SitePolitenessMiddleware


def crawler_with(**overrides):
    settings = load_settings(environ={}).copy_to_dict()
    settings.pop("RANDOMIZE_DOWNLOAD_DELAY")  # Scrapy's deprecated default; copied at a higher priority it warns
    settings.update(overrides)
    return get_crawler(settings_dict=settings)


# async: a new slot starts the downloader's slot garbage collector, a looping call that wants a running event loop
# when the asyncio reactor is installed (as it is once an integration test ran in this session)
async def test_with_redis_the_downloader_slots_get_no_delay_of_their_own():
    crawler = crawler_with(DARKCRAWL_REDIS_URL="redis://127.0.0.1:1/0", DOWNLOAD_DELAY=1.5)
    downloader = Downloader(crawler)
    try:
        crawler.engine = types.SimpleNamespace(downloader=downloader)
        middleware = SitePolitenessMiddleware.from_crawler(crawler)
        assert middleware.delay == 1.5  # the site's delay, held in Redis
        _, before = downloader._get_slot(Request("http://a.onion/"))
        assert before.delay == 1.5
        middleware.spider_opened()
        _, slot = downloader._get_slot(Request("http://b.onion/"))
        assert slot.delay == 0
    finally:
        downloader.close()


async def test_without_redis_scrapy_keeps_its_own_delay():
    crawler = crawler_with(DOWNLOAD_DELAY=1.5)
    with pytest.raises(NotConfigured):
        SitePolitenessMiddleware.from_crawler(crawler)
    downloader = Downloader(crawler)
    try:
        _, slot = downloader._get_slot(Request("http://a.onion/"))
        assert slot.delay == 1.5
    finally:
        downloader.close()


def test_the_delay_is_jittered_within_the_configured_range():
    middleware = SitePolitenessMiddleware.from_crawler(
        crawler_with(DARKCRAWL_REDIS_URL="redis://127.0.0.1:1/0", DOWNLOAD_DELAY=2.0, DOWNLOAD_DELAY_JITTER=0.25))
    delays = {middleware._delay_ms() for _ in range(200)}
    assert min(delays) >= 1500 and max(delays) <= 2500 and len(delays) > 50
