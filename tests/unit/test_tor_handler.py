"""The fail-closed download handler refuses anything that would not go through the crawl's Tor SOCKS ports."""

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.tor.handler import NotThroughTorError, TorOnlyDownloadHandler

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"


@pytest.fixture
def handler():
    settings = load_settings(environ={}, overrides={"DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050"})
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    return TorOnlyDownloadHandler(crawler)


@pytest.mark.parametrize(
    "proxy",
    [None, "http://127.0.0.1:9050", "socks5://127.0.0.1:9050", "socks5h://127.0.0.1:9999", "socks5h://10.1.1.1:9050"],
)
async def test_requests_not_through_tor_are_refused_before_any_socket(handler, proxy):
    meta = {"proxy": proxy} if proxy else {}
    request = Request(f"http://{ONION}/", meta=meta)
    with pytest.raises(NotThroughTorError):
        async with handler._make_request(request, 5):
            pass
    assert handler._proxy_clients == {}  # no client (and so no connection) was made


def test_direct_client_is_never_handed_out(handler):
    with pytest.raises(NotThroughTorError):
        handler._get_client(None)


def test_handler_without_tor_configured_does_not_load():
    from scrapy.exceptions import NotConfigured

    crawler = get_crawler(settings_dict=load_settings(environ={}).copy_to_dict())
    with pytest.raises(NotConfigured, match="never downloads without Tor"):
        TorOnlyDownloadHandler(crawler)


async def test_requests_of_a_site_the_content_policy_stopped_are_refused_at_the_last_step():
    from scrapy.exceptions import IgnoreRequest

    from crawler.safety.middleware import site_stopped

    settings = load_settings(environ={}, overrides={"DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050"})
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    handler = TorOnlyDownloadHandler(crawler)
    crawler.signals.send_catch_log(site_stopped, site=ONION)
    request = Request(f"http://{ONION}/queued", meta={"proxy": "socks5h://u:p@127.0.0.1:9050"})
    with pytest.raises(IgnoreRequest, match="stopped by the content policy"):
        async with handler._make_request(request, 5):
            pass
    assert handler._proxy_clients == {}
    assert crawler.stats.get_value("darkcrawl/refused/high_risk_site") == 1


def test_no_experimental_warning_at_each_crawl(caplog):
    """Scrapy's "experimental" warning is answered by the pin and the lab tests: an operator does not see it."""
    settings = load_settings(environ={}, overrides={"DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050"})
    with caplog.at_level("WARNING"):
        TorOnlyDownloadHandler(get_crawler(settings_dict=settings.copy_to_dict()))
    assert "experimental" not in caplog.text
