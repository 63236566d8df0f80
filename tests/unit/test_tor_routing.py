import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.config import load_settings
from crawler.identity import refusal_reason, site_key
from crawler.tor.isolation import instance_index, socks_credentials
from crawler.tor.routing import TorRoutingMiddleware

ONION_A = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"
ONION_B = "sp3k262uwy4r2k3ycr5awluarykdpag6a7y33jxop4cs2lu5uz5sseqd.onion"


def make_middleware(**overrides):
    socks = "127.0.0.1:9050,127.0.0.1:9060"
    settings = load_settings(environ={}, overrides={"DARKCRAWL_TOR_SOCKS": socks, **overrides})
    crawler = get_crawler(settings_dict=settings.copy_to_dict())
    return TorRoutingMiddleware.from_crawler(crawler), crawler


def test_each_site_gets_its_own_stable_credentials():
    assert socks_credentials(ONION_A) == socks_credentials(ONION_A.upper())
    assert socks_credentials(ONION_A) != socks_credentials(ONION_B)
    assert socks_credentials(ONION_A, 1)[0] == socks_credentials(ONION_A, 0)[0]
    assert socks_credentials(ONION_A, 1)[1] != socks_credentials(ONION_A, 0)[1]
    assert ONION_A not in "".join(socks_credentials(ONION_A))  # the host is not spelled out to tor


def test_instance_choice_is_stable_and_spread():
    sites = [f"site{i}.example" for i in range(200)]
    first = [instance_index(site, 3) for site in sites]
    assert first == [instance_index(site, 3) for site in sites]
    assert {0, 1, 2} == set(first)
    assert instance_index(ONION_A, 1) == 0


def test_site_key_strips_port_and_case():
    assert site_key("ABC.onion:80") == "abc.onion"
    assert site_key("abc.onion.") == "abc.onion"


@pytest.mark.parametrize(
    ("url", "clearnet", "reason"),
    [
        (f"http://{ONION_A}/", False, None),
        (f"https://{ONION_A}/x", False, None),
        ("http://expyuzz4wqqyqhjn.onion/", False, "invalid_onion"),
        ("https://example.com/", False, "clearnet"),
        ("https://example.com/", True, None),
        ("http://127.0.0.1:9200/", True, "local_address"),
        ("http://192.168.1.1/", True, "local_address"),
        ("http://localhost/", True, "local_address"),
        (f"ftp://{ONION_A}/", False, "scheme"),
        ("http:///nohost", False, "bad_url"),
    ],
)
def test_refusal_reasons(url, clearnet, reason):
    assert refusal_reason(url, clearnet) == reason


def test_requests_get_a_socks5h_proxy_with_site_credentials():
    middleware, _ = make_middleware()
    request_a = Request(f"http://{ONION_A}/page", meta={"proxy": "http://attacker.example:8080"})
    request_b = Request(f"http://{ONION_B}/page")
    middleware.process_request(request_a)
    middleware.process_request(request_b)
    proxy_a, proxy_b = request_a.meta["proxy"], request_b.meta["proxy"]
    assert proxy_a.startswith("socks5h://s-") and proxy_b.startswith("socks5h://s-")
    assert proxy_a.split("@")[0] != proxy_b.split("@")[0]
    assert proxy_a.endswith(("@127.0.0.1:9050", "@127.0.0.1:9060"))


def test_refused_requests_are_counted():
    middleware, crawler = make_middleware()
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request("https://example.com/"))
    assert crawler.stats.get_value("darkcrawl/refused/clearnet") == 1


class DownloadTimeoutError(Exception):
    pass


@pytest.fixture
def listening_port():
    """A port something accepts connections on: a live tor's SOCKS port, as far as the middleware can tell."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


async def test_repeated_failures_move_a_site_to_a_new_circuit(listening_port):
    middleware, crawler = make_middleware(DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{listening_port}",
                                          DARKCRAWL_TOR_NEW_CIRCUIT_AFTER=2, DARKCRAWL_TOR_NEWNYM_AFTER=0)
    request = Request(f"http://{ONION_A}/")
    middleware.process_request(request)
    before = request.meta["proxy"]
    assert await middleware.process_exception(request, DownloadTimeoutError()) is None
    assert await middleware.process_exception(request, DownloadTimeoutError()) is None
    middleware.process_request(request)
    assert request.meta["proxy"] != before
    assert crawler.stats.get_value("darkcrawl/tor/new_circuits") == 1
    assert crawler.stats.get_value("darkcrawl/tor/0/circuit_errors") == 2


async def test_fresh_circuits_failing_again_ask_for_newnym(listening_port):
    middleware, _crawler = make_middleware(DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{listening_port}",
                                           DARKCRAWL_TOR_NEW_CIRCUIT_AFTER=1, DARKCRAWL_TOR_NEWNYM_AFTER=2)
    asked: list[tuple[int, str]] = []
    middleware._new_identity = lambda endpoint, site: asked.append((endpoint.index, site))
    request = Request(f"http://{ONION_A}/")
    middleware.process_request(request)
    for _ in range(4):
        await middleware.process_exception(request, DownloadTimeoutError())
    assert asked == [(0, ONION_A), (0, ONION_A)]  # every second renewal of the circuit
    middleware.process_response(request, Response(request.url))  # an answer resets the count
    await middleware.process_exception(request, DownloadTimeoutError())
    assert len(asked) == 2


async def test_request_failing_because_tor_is_gone_is_queued_again_and_reported():
    middleware, crawler = make_middleware()  # nothing listens on 9050/9060 here
    suspected: list[int] = []
    from crawler.tor.health import tor_suspect

    crawler.signals.connect(lambda endpoint_index: suspected.append(endpoint_index), signal=tor_suspect, weak=False)
    request = Request(f"http://{ONION_A}/")
    middleware.process_request(request)
    again = await middleware.process_exception(request, DownloadTimeoutError())
    assert isinstance(again, Request) and again.url == request.url and again.dont_filter
    assert again.meta["darkcrawl_tor_requeued"] == 1
    index = request.meta["darkcrawl_tor_instance"]
    assert suspected == [index]
    assert crawler.stats.get_value(f"darkcrawl/tor/{index}/socks_down") == 1
    assert crawler.stats.get_value(f"darkcrawl/tor/{index}/circuit_errors") is None  # not the site's fault
    again.meta["darkcrawl_tor_requeued"] = 50
    assert await middleware.process_exception(again, DownloadTimeoutError()) is None  # bounded: then Scrapy's retry
    assert crawler.stats.get_value(f"darkcrawl/tor/{index}/requeues_exhausted") == 1


@pytest.mark.parametrize(
    ("error", "socks_open", "paused", "requeued", "action"),
    [
        ("DownloadConnectionRefusedError", False, False, 0, "requeue"),  # tor killed: its SOCKS port is closed
        ("DownloadFailedError", True, True, 3, "requeue"),  # tor back on its port but not usable yet (crawl paused)
        ("ResponseDataLossError", False, False, 0, "requeue"),  # tor killed while the body was arriving
        ("ResponseDataLossError", True, False, 0, "none"),  # tor fine: the site cut it off; Scrapy's retry decides
        ("DownloadTimeoutError", True, False, 0, "circuit_error"),  # tor fine: the site or its circuit failed
        ("DownloadTimeoutError", False, False, 50, "exhausted"),  # bounded: then the retry middleware decides
        ("IgnoreRequest", False, True, 0, "none"),
        ("HttpError", True, False, 0, "none"),
    ],
)
def test_tor_failure_action(error, socks_open, paused, requeued, action):
    from crawler.tor.routing import tor_failure_action

    assert tor_failure_action(error, socks_open, paused, requeued) == action


async def test_request_failing_while_the_crawl_is_paused_goes_back_to_the_queue_without_a_retry(listening_port):
    from crawler.tor.health import tor_paused, tor_resumed

    middleware, crawler = make_middleware(DARKCRAWL_TOR_SOCKS=f"127.0.0.1:{listening_port}")
    request = Request(f"http://{ONION_A}/", meta={"retry_times": 2})
    middleware.process_request(request)
    crawler.signals.send_catch_log(signal=tor_paused)  # e.g. a restarted tor: SOCKS open, bootstrap not done
    again = await middleware.process_exception(request, DownloadTimeoutError())
    assert isinstance(again, Request) and again.meta["retry_times"] == 2 and again.meta["darkcrawl_tor_requeued"] == 1
    assert crawler.stats.get_value("darkcrawl/tor/0/requeued") == 1
    assert crawler.stats.get_value("darkcrawl/tor/0/circuit_errors") is None
    assert crawler.stats.get_value("darkcrawl/tor/0/socks_down") is None  # its port answered
    crawler.signals.send_catch_log(signal=tor_resumed)
    assert await middleware.process_exception(request, DownloadTimeoutError()) is None  # now the site's failure
    assert crawler.stats.get_value("darkcrawl/tor/0/circuit_errors") == 1
