"""Scrapy settings darkcrawl changes for speed (#16) keep what they replace."""

from scrapy.utils.misc import is_generator_with_return_value

from crawler.config import load_settings
from spiders.onion import OnionSpider


def test_spider_callbacks_return_no_value():
    """WARN_ON_GENERATOR_RETURN_VALUE is off (Scrapy's check re-parsed the callback's source every few responses):
    this is the check it made, once, here. A generator callback returning a value would lose it silently."""
    settings = load_settings(environ={})
    assert settings.getbool("WARN_ON_GENERATOR_RETURN_VALUE") is False
    spider = OnionSpider()
    for callback in (spider.parse, spider.on_error, spider.start):
        assert not is_generator_with_return_value(callback)


def test_one_item_per_response_keeps_its_own_task():
    """The spider yields at most one item per response, then requests: two concurrent outputs are enough for the
    item's pipeline not to hold the links back; CONCURRENT_ITEMS leaves room above that."""
    assert load_settings(environ={}).getint("CONCURRENT_ITEMS") >= 2


def test_retried_exceptions_are_scrapys_but_the_tunnel_error_of_a_handler_never_used():
    """RETRY_EXCEPTIONS drops TunnelError only (its module cost 0.1-0.2 s of every start): it belongs to Scrapy's
    HTTP/1.1 handler, and every http(s) download goes through the Tor handler. A Scrapy upgrade that changes its
    list fails here, to be looked at again."""
    from scrapy.settings import default_settings

    settings = load_settings(environ={})
    assert settings.getlist("RETRY_EXCEPTIONS") == [
        entry for entry in default_settings.RETRY_EXCEPTIONS
        if entry != "scrapy.core.downloader.handlers.http11.TunnelError"
    ]
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    assert {handlers["http"], handlers["https"]} == {"crawler.tor.handler.TorOnlyDownloadHandler"}
    assert all(handler is None for scheme, handler in handlers.items() if scheme not in ("http", "https"))
