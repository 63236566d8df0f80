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
    with caplog.at_level("INFO"):
        TorOnlyDownloadHandler(get_crawler(settings_dict=settings.copy_to_dict()))
    assert "experimental" not in caplog.text
    assert "downloads go through Tor only (TorOnlyDownloadHandler): SOCKS 127.0.0.1:9050" in caplog.text


def test_proxy_clients_cache_their_sockets(handler):
    """Each Tor client's connection pool sits on the socket-caching backend (a cheap "did the server close this idle
    connection?"): an httpx or httpcore upgrade that moves the pool would otherwise lose it silently."""
    from crawler.tor.handler import SocketCachingBackend

    client = handler._get_client("socks5h://s-1:g0@127.0.0.1:9050")
    assert isinstance(client._transport._pool._network_backend, SocketCachingBackend)


async def test_socket_caching_pool_reuses_live_connections_and_drops_closed_ones():
    """Through an httpcore pool on the caching backend: a kept-alive connection is reused while the server keeps it
    open, and one the server closed while idle is noticed (readable) and replaced, not written into."""
    import asyncio

    import httpcore

    from crawler.tor.handler import SocketCachingBackend, SocketCachingStream, socket_readable

    connections: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    backend = SocketCachingBackend(httpcore.AnyIOBackend())
    try:
        async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
            for _ in range(2):
                response = await pool.request("GET", f"http://127.0.0.1:{port}/")
                assert response.content == b"ok"
            assert len(connections) == 1  # kept alive and reused
            [connection] = pool.connections
            stream = connection._connection._network_stream
            assert isinstance(stream, SocketCachingStream)
            assert stream.get_extra_info("is_readable") is False
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
            connections[0].close()  # the server drops the idle connection
            for _ in range(100):
                await asyncio.sleep(0.01)
                if stream.get_extra_info("is_readable"):
                    break
            assert stream.get_extra_info("is_readable") is True
            response = await pool.request("GET", f"http://127.0.0.1:{port}/")
            assert response.content == b"ok"
            assert len(connections) == 2  # a new connection, not a write into the closed one
    finally:
        server.close()
    assert socket_readable(None) is True
