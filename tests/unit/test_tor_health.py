"""The Tor health extension's decisions (crawler/tor/health.py): pause, resume, restart or give up after the wait."""

from __future__ import annotations

import json

from scrapy.utils.test import get_crawler
from twisted.internet import defer

from crawler.config import load_settings
from crawler.tor.control import TorStatus
from crawler.tor.health import TorHealthExtension


class Engine:
    def __init__(self):
        self.paused = False
        self.spider = object()
        self.closed_with: str | None = None

    def pause(self):
        self.paused = True

    def unpause(self):
        self.paused = False

    def close_spider_async(self, reason: str):
        self.closed_with = reason
        return defer.succeed(None)


def extension(**overrides):
    settings = load_settings(environ={}, overrides={"DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050", **overrides})
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    crawler.stats.open_spider()
    ext = TorHealthExtension.from_crawler(crawler)
    ext.crawler.engine = Engine()
    ext.polls = 0
    ext._poll_soon = lambda: setattr(ext, "polls", ext.polls + 1)
    return ext, crawler.stats


DOWN = TorStatus(0, "127.0.0.1:9050", False, None)
UP = TorStatus(0, "127.0.0.1:9050", True, None)


def test_external_tor_down_pauses_then_resumes_when_back():
    ext, stats = extension(DARKCRAWL_TOR_WAIT=300)
    ext._evaluate([DOWN])
    assert ext.crawler.engine.paused and ext.polls == 1
    assert stats.get_value("darkcrawl/tor/pauses") == 1
    assert stats.get_value("darkcrawl/tor/0/health_failures") == 1
    ext._evaluate([DOWN])
    assert stats.get_value("darkcrawl/tor/pauses") == 1  # one pause, however many checks
    ext._evaluate([UP])
    assert not ext.crawler.engine.paused and ext.crawler.engine.closed_with is None
    assert stats.get_value("darkcrawl/tor/paused_seconds") is not None


def test_external_tor_down_past_the_wait_closes_the_crawl():
    ext, stats = extension(DARKCRAWL_TOR_WAIT=0)
    ext._evaluate([DOWN])
    assert ext.crawler.engine.closed_with == "tor_unavailable"
    assert "DARKCRAWL_TOR_WAIT=0" in stats.get_value("darkcrawl/tor/unavailable")


def test_launched_tor_down_is_restarted_not_waited_for():
    ext, _stats = extension(DARKCRAWL_TOR_LAUNCHED=json.dumps([{"SocksPort": "127.0.0.1:9050"}]), DARKCRAWL_TOR_WAIT=0)
    restarted = []
    ext._restart = lambda down: restarted.append([status.index for status in down])
    ext._evaluate([DOWN])
    assert restarted == [[0]] and ext.crawler.engine.paused
    assert ext.crawler.engine.closed_with is None


def test_a_request_finding_tor_gone_pauses_at_once():
    ext, _stats = extension()
    ext.check = lambda: None
    ext.suspect(endpoint_index=0)
    assert ext.crawler.engine.paused


def test_pause_and_resume_are_signalled_and_polls_never_pile_up():
    from crawler.tor.health import TorHealthExtension, tor_paused, tor_resumed

    ext, _stats = extension(DARKCRAWL_TOR_WAIT=300)
    ext._poll_soon = TorHealthExtension._poll_soon.__get__(ext)  # the real one: a reactor call, cancelled below
    told: list[str] = []
    ext.crawler.signals.connect(lambda: told.append("paused"), signal=tor_paused, weak=False)
    ext.crawler.signals.connect(lambda: told.append("resumed"), signal=tor_resumed, weak=False)
    ext._evaluate([DOWN])
    first = ext.poll
    for _ in range(5):  # the periodic check and every suspect request would each have started a polling chain
        ext._evaluate([DOWN])
    assert ext.poll is first and first.active()
    ext._evaluate([UP])
    assert told == ["paused", "resumed"]
    ext.spider_closed(None)
    assert not first.active()
