"""The SOCKS ports the browser gets: extra SocksPorts on the tor darkcrawl launches, handed to the render settings.
(The tor launch itself is exercised for real in tests/integration/test_crawl.py; here only its configuration.)"""

import stem.process

from crawler.config import load_settings
from crawler.crawl import browser_settings
from crawler.render import RENDER_HANDLER
from crawler.tor.endpoints import TorEndpoint
from crawler.tor.launcher import LaunchedTor, launch_instances


def test_launched_tor_opens_isolated_extra_socks_ports(monkeypatch, tmp_path):
    configs = []

    def fake_launch(config, **kwargs):
        configs.append(config)
        return object()

    monkeypatch.setattr(stem.process, "launch_tor_with_config", fake_launch)
    monkeypatch.setattr("crawler.tor.launcher.shutil.which", lambda name: "/usr/bin/tor")
    [launched] = launch_instances(1, tmp_path, 39150, extra_socks=2)
    socks = configs[0]["SocksPort"]
    assert socks[0] == f"127.0.0.1:{launched.endpoint.socks_port} IsolateSOCKSAuth"
    assert len(launched.extra_socks_ports) == 2
    assert launched.endpoint.control_port not in launched.extra_socks_ports
    for port, line in zip(launched.extra_socks_ports, socks[1:], strict=True):
        assert line == f"127.0.0.1:{port} IsolateSOCKSAuth IsolateDestAddr"


def test_browser_settings_use_the_launched_extra_ports_unless_some_are_named(tmp_path):
    launched = [LaunchedTor(TorEndpoint(0, "127.0.0.1", 19050), tmp_path, None, [19052, 19053])]
    off = load_settings(environ={}, overrides={"DARKCRAWL_TOR_SOCKS": "127.0.0.1:19050"})
    assert browser_settings(off, launched) == {}
    on = load_settings(environ={}, overrides={"DARKCRAWL_TOR_SOCKS": "127.0.0.1:19050", "DARKCRAWL_RENDER": True})
    values = browser_settings(on, launched)
    assert values["DARKCRAWL_RENDER_SOCKS"] == "127.0.0.1:19052,127.0.0.1:19053"
    assert values["DOWNLOAD_HANDLERS"]["http"] == RENDER_HANDLER
    named = load_settings(environ={}, overrides={"DARKCRAWL_RENDER": True, "DARKCRAWL_RENDER_SOCKS": "127.0.0.1:9150"})
    assert "DARKCRAWL_RENDER_SOCKS" not in browser_settings(named, launched)


def test_a_missing_browser_or_a_bad_render_setting_is_a_one_line_error_before_the_crawl(tmp_path):
    import pytest

    from crawler.errors import ServiceError, UsageError

    base = {"DARKCRAWL_TOR_SOCKS": "127.0.0.1:19050", "DARKCRAWL_RENDER": True}
    missing = load_settings(environ={}, overrides={**base, "DARKCRAWL_RENDER_BROWSER": str(tmp_path / "chromium")})
    with pytest.raises(ServiceError, match=r"Chromium not found at .*DARKCRAWL_RENDER_BROWSER"):
        browser_settings(missing, [])
    bad = load_settings(environ={}, overrides={**base, "DARKCRAWL_RENDER_PAGE_TIMEOUT": 0})
    with pytest.raises(UsageError, match="DARKCRAWL_RENDER_PAGE_TIMEOUT must be greater than 0"):
        browser_settings(bad, [])
