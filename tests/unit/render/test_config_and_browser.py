import pytest

from crawler.config import load_settings
from crawler.errors import UsageError
from crawler.render import RENDER_HANDLER, render_settings
from crawler.render.browser import CHROMIUM_ARGS, abort_reason, context_options, launch_options
from crawler.render.config import RenderConfig

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"


def config(**overrides):
    values = {"DARKCRAWL_RENDER": True, "DARKCRAWL_TOR_SOCKS": "127.0.0.1:9050", **overrides}
    settings = load_settings(environ={}, overrides=values)
    return RenderConfig.from_settings(settings), settings


def test_render_socks_default_to_the_crawls_tor_and_must_be_loopback():
    render, _ = config()
    assert render.socks == (("127.0.0.1", 9050),)
    render, _ = config(DARKCRAWL_RENDER_SOCKS="127.0.0.1:9150, 127.0.0.1:9151")
    assert render.socks == (("127.0.0.1", 9150), ("127.0.0.1", 9151))
    with pytest.raises(UsageError, match=r"DARKCRAWL_RENDER_SOCKS: 10\.0\.0\.5 is not a loopback"):
        config(DARKCRAWL_RENDER_SOCKS="10.0.0.5:9050")
    with pytest.raises(UsageError, match="DARKCRAWL_RENDER_MAX_PAGES must be greater than 0"):
        config(DARKCRAWL_RENDER_MAX_PAGES=0)


def test_rendering_off_changes_no_handler():
    _, settings = config(DARKCRAWL_RENDER=False)
    assert render_settings(settings) == {}
    assert RenderConfig.from_settings(settings).socks == ()
    _, settings = config()
    handlers = render_settings(settings)["DOWNLOAD_HANDLERS"]
    assert handlers["http"] == handlers["https"] == RENDER_HANDLER
    assert handlers["file"] is None and handlers["ftp"] is None  # the other schemes stay off


def test_the_browser_goes_through_tor_socks_without_webrtc_or_quic():
    render, _ = config(DARKCRAWL_RENDER_SOCKS="127.0.0.1:9150,127.0.0.1:9151")
    options = launch_options(render)
    assert options["proxy"] == {"server": "socks5://127.0.0.1:9150"}  # Playwright maps DNS to NOTFOUND locally
    assert options["executable_path"] == "/usr/bin/chromium" and options["headless"] is True
    for flag in ("--disable-quic", "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
                 "--webrtc-ip-handling-policy=disable_non_proxied_udp"):
        assert flag in CHROMIUM_ARGS
    with pytest.raises(ValueError, match="never runs without Tor"):
        launch_options(RenderConfig(enabled=True))


def test_contexts_look_like_tor_browser_and_accept_nothing(monkeypatch):
    render, settings = config(DARKCRAWL_RENDER_SOCKS="127.0.0.1:9150,127.0.0.1:9151")
    first, second = context_options(render, 0), context_options(render, 1)
    assert first["proxy"] == {"server": "socks5://127.0.0.1:9150"}
    assert second["proxy"] == {"server": "socks5://127.0.0.1:9151"}
    assert context_options(render, 2)["proxy"] == first["proxy"]
    assert first["accept_downloads"] is False and first["permissions"] == []
    assert first["service_workers"] == "block"
    assert first["user_agent"] == settings.get("USER_AGENT")  # the plain handler's User-Agent
    assert first["timezone_id"] == "UTC" and first["locale"] == "en-US"
    assert first["viewport"] == {"width": 1400, "height": 900}


@pytest.mark.parametrize(
    ("url", "kind", "reason"),
    [
        (f"http://{ONION}/app.js", "script", None),
        (f"http://{ONION}/style.css", "stylesheet", None),
        (f"http://{ONION}/api/items", "fetch", None),
        ("data:image/png;base64,AAAA", "image", None),
        (f"http://{ONION}/logo", "image", "image"),
        (f"http://{ONION}/clip", "media", "media"),
        (f"http://{ONION}/f.woff2", "font", "font"),
        (f"http://{ONION}/setup.exe", "document", "extension"),
        (f"http://{ONION}/archive.zip", "other", "extension"),
        ("https://cdn.example.com/lib.js", "script", "clearnet"),
        ("http://127.0.0.1:8080/", "document", "local_address"),  # refused as local, clearnet allowed or not
        ("ws://" + ONION + "/socket", "websocket", "scheme"),
        ("http://abc.onion/", "document", "invalid_onion"),
    ],
)
def test_route_interception_aborts_media_downloads_and_refused_hosts(url, kind, reason):
    render, _ = config()
    assert abort_reason(render, url, kind) == reason


def test_clearnet_subresources_follow_the_crawls_clearnet_setting():
    render, _ = config(DARKCRAWL_ALLOW_CLEARNET=True)
    assert abort_reason(render, "https://cdn.example.com/lib.js", "script") is None
    assert abort_reason(render, "http://192.168.1.1/", "document") == "local_address"


async def test_the_handler_refuses_contexts_off_tor_and_plain_requests_without_tor():
    """Before any browser exists: a context whose proxy is not one of the Tor ports is refused, and a request not
    marked for rendering goes to the Tor-only handler, which refuses it without a Tor proxy."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawler.render.handler import TorRenderDownloadHandler
    from crawler.tor.handler import NotThroughTorError

    _, settings = config(DARKCRAWL_RENDER_SOCKS="127.0.0.1:9150")
    handler = TorRenderDownloadHandler.from_crawler(get_crawler(settings_dict=settings.copy_to_dict()))
    try:
        with pytest.raises(NotThroughTorError, match="not a Tor SOCKS port"):
            await handler._create_browser_context("x", {"proxy": {"server": "socks5://127.0.0.1:1"},
                                                        "accept_downloads": False})
        with pytest.raises(ValueError, match="must refuse downloads"):
            await handler._create_browser_context("y", {"proxy": {"server": "socks5://127.0.0.1:9150"}})
        with pytest.raises(NotThroughTorError, match="no Tor proxy assigned"):
            await handler.download_request(Request(f"http://{ONION}/"))
        assert not hasattr(handler, "browser")
    finally:
        await handler.close()
