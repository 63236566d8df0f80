"""Local hosts in every spelling a browser or curl accepts are refused alike for seeds, links and redirects."""

import ipaddress

import pytest
from scrapy import Request

from crawler.fetch.limits import HostileResponseMiddleware
from crawler.hosts import host_address, local_host_reason, url_text_problem
from crawler.identity import refusal_reason
from crawler.seeds import parse_seeds

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd.onion"

LOCAL_SPELLINGS = [
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0X7F.1",  # hex, short
    "0177.0.0.1",  # octal
    "127.1",  # short dotted
    "127.0.1",
    "127.0.0.1.",  # trailing dot
    "localhost.",
    "LOCALHOST",
    "foo.localhost",
    "%6c%6fcalhost",  # percent-encoded
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # full-width digits
    "127\u30020\u30020\u30021",  # ideographic full stops
    "[::1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:7f00:1]",
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[64:ff9b::a00:1]",  # NAT64 of 10.0.0.1
    "10.1",
    "0",
    "0.0.0.0",
    "169.254.169.254",  # link-local (cloud metadata)
    "100.64.0.1",  # shared address space
    "192.168.0.1",
    "[fe80::1]",
    "[fc00::1]",
    "224.0.0.1",  # multicast
    "printer.local",
]


@pytest.mark.parametrize("host", LOCAL_SPELLINGS)
def test_a_local_host_is_refused_as_a_seed_a_link_and_a_redirect_even_with_clearnet_allowed(host):
    url = f"http://{host}/x"
    seeds = parse_seeds([url], allow_clearnet=True)
    assert seeds.seeds == [] and "not even with --allow-clearnet" in seeds.problems[0].reason
    assert refusal_reason(url, allow_clearnet=True) == "local_address"
    assert refusal_reason(Request(url).url, allow_clearnet=True) == "local_address"  # as Scrapy rewrites it


def test_a_redirect_to_a_local_spelling_is_refused():
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from crawler.config import load_settings

    settings = load_settings(environ={}, overrides={"DARKCRAWL_ALLOW_CLEARNET": True})
    middleware = HostileResponseMiddleware.from_crawler(get_crawler(settings_dict=settings.copy_to_dict()))
    request = Request("https://example.com/")
    public = Response("https://example.com/", status=302, headers={"Location": "https://example.org/"})
    assert middleware.process_response(request, public) is public  # control: a public target passes
    response = Response("https://example.com/", status=302, headers={"Location": "http://2130706433/admin"})
    with pytest.raises(IgnoreRequest, match="local_address"):
        middleware.process_response(request, response)


@pytest.mark.parametrize(
    ("host", "address"),
    [("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
     ("1.2.3", "1.2.0.3"), ("0x8.010.0x0.1", "8.8.0.1"), ("8.8.8.8.", "8.8.8.8"), ("[2606:4700::1]", "2606:4700::1"),
     ("example.com", None), ("a1.example", None)],
)
def test_hosts_are_read_like_a_browser(host, address):
    assert host_address(host) == (ipaddress.ip_address(address) if address else None)


@pytest.mark.parametrize("host", ["1.2.3.999", "256.1.1.1", "1.2.3.4.5", "0x1g.1", "4294967296"])
def test_a_host_ending_in_a_number_that_is_no_address_is_refused(host):
    with pytest.raises(ValueError):
        host_address(host)
    assert local_host_reason(host)


@pytest.mark.parametrize("host", ["8.8.8.8", "134744072", "example.com", "example.com.", "[2606:4700::1]", ONION])
def test_public_hosts_pass(host):
    assert local_host_reason(host) is None
    assert refusal_reason(f"http://{host}/", allow_clearnet=True) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [(f"http://{ONION}:0/", "port 0"), (f"http://{ONION}/a\x00b", "'\\x00'"), (f"http://{ONION}/a\x9bb", "'\\x9b'"),
     (f"http://{ONION}:99999/", "not a valid port"), (f"http://{ONION}/", None)],
)
def test_port_zero_and_control_characters(url, problem):
    found = url_text_problem(url)
    assert (problem in found) if problem else found is None
    assert (refusal_reason(url, allow_clearnet=False) == "bad_url") is bool(problem)
    seeds = parse_seeds([url])
    assert (seeds.seeds == []) is bool(problem)
