import pytest
from scrapy.settings import Settings

from crawler.errors import UsageError
from crawler.tor.config import TorConfig
from crawler.tor.endpoints import TorEndpoint


def tor_endpoints(settings: Settings) -> tuple[TorEndpoint, ...]:
    return TorConfig.from_settings(settings).endpoints


def test_remote_socks_refused_unless_allowed():
    with pytest.raises(UsageError, match="loopback"):
        tor_endpoints(Settings({"DARKCRAWL_TOR_SOCKS": "10.0.0.5:9050"}))
    endpoints = tor_endpoints(
        Settings({"DARKCRAWL_TOR_SOCKS": "10.0.0.5:9050", "DARKCRAWL_TOR_ALLOW_REMOTE_SOCKS": True})
    )
    assert endpoints[0].socks_port == 9050


def test_control_list_must_match_socks_list():
    with pytest.raises(UsageError, match="one control port per"):
        tor_endpoints(Settings({"DARKCRAWL_TOR_SOCKS": "9050,9060", "DARKCRAWL_TOR_CONTROL": "9051"}))
    with pytest.raises(UsageError, match="host:port"):
        tor_endpoints(Settings({"DARKCRAWL_TOR_SOCKS": "127.0.0.1:abc"}))


def test_a_pool_pairs_the_nth_control_port_with_the_nth_socks_port():
    config = TorConfig.from_settings(Settings({
        "DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050, 9060",
        "DARKCRAWL_TOR_CONTROL": "127.0.0.1:9051,[::1]:9061",
        "DARKCRAWL_TOR_CONTROL_PASSWORD": "secret",
    }))
    assert config.endpoints == (
        TorEndpoint(0, "127.0.0.1", 9050, "127.0.0.1", 9051, "secret"),
        TorEndpoint(1, "127.0.0.1", 9060, "::1", 9061, "secret"),
    )
    assert config.socks_addresses == (("127.0.0.1", 9050), ("127.0.0.1", 9060))
    assert config.render_socks == ()  # rendering off: the browser's ports are not even read
    assert TorConfig.from_settings(Settings({"DARKCRAWL_TOR_SOCKS": ""})) == TorConfig()  # none: launch our own


def test_the_browser_uses_render_socks_else_the_crawls_own():
    own = {"DARKCRAWL_RENDER": True, "DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050"}
    assert TorConfig.from_settings(Settings(own)).render_socks == (("127.0.0.1", 9050),)
    config = TorConfig.from_settings(Settings({**own, "DARKCRAWL_RENDER_SOCKS": "9150,127.0.0.1:9151"}))
    assert config.render_socks == (("127.0.0.1", 9150), ("127.0.0.1", 9151))
    with pytest.raises(UsageError, match=r"DARKCRAWL_RENDER_SOCKS: 10\.0\.0\.5 is not a loopback .*browser's"):
        TorConfig.from_settings(Settings({**own, "DARKCRAWL_RENDER_SOCKS": "10.0.0.5:9150"}))
    with pytest.raises(UsageError, match=r"DARKCRAWL_RENDER_SOCKS: port 70000 is out of range"):
        TorConfig.from_settings(Settings({**own, "DARKCRAWL_RENDER_SOCKS": "127.0.0.1:70000"}))
    # rendering off: a browser setting the crawl does not use is not held against it
    assert TorConfig.from_settings(Settings({"DARKCRAWL_RENDER_SOCKS": "nonsense"})).render_socks == ()
