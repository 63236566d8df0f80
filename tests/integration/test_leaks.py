"""No leaks, proven: a crawl runs in a network namespace whose only ways out are relays to the lab's Tor ports (and
Elasticsearch), with every packet captured and every Python socket call recorded; the lab's ``inspect`` sites record
every request they receive (headers, cookies, Referer). Design: docs/reliability.md, "No leaks"."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler import settings as default_settings
from tests.integration.support.netns import LeakNamespace
from tests.integration.test_crawl import REPO, crawl_env

pytestmark = pytest.mark.integration

SUPPORT = Path(__file__).parent / "support"
NAMES_THAT_MUST_NOT_APPEAR = re.compile(r"darkcrawl|scrapy|python|httpx|twisted|aiohttp|urllib|curl", re.IGNORECASE)


def lab_log(tor_lab, site: str, since: int = 0) -> dict:
    """The request log of a lab inspect/safety site, read from its loopback HTTP port (not through Tor)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{tor_lab.http_ports[site]}/_log?since={since}", timeout=10) as response:
        return json.loads(response.read())


def headers_of(entry: dict) -> dict[str, str]:
    return {name.lower(): value for name, value in entry["headers"]}


def crawl_in_namespace(tor_lab, es_node, tmp: Path, args: list[str], extra_ports: tuple[int, ...] | list[int] = (),
                       **extra_env: str) -> dict:
    """Run ``darkcrawl crawl *args*`` in a leak namespace whose ways out are the lab's Tor ports (plus
    *extra_ports*) and Elasticsearch; return what it printed, every packet, every Python socket call, what the lab's
    inspect sites received, and the control run's packets."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    es_port = urlsplit(es_node.url).port or 9200
    allowed = [tor_lab.socks_port, tor_lab.control_port, es_port, *extra_ports]
    since = {site: lab_log(tor_lab, site)["last"] for site in ("inspect", "inspect2")}
    socket_log = tmp / "sockets.jsonl"
    env = crawl_env(
        tor_lab, es_node, f"t{uuid.uuid4().hex[:8]}", tmp / "data",
        DARKCRAWL_TEST_SOCKET_LOG=str(socket_log), DARKCRAWL_TOR_ISOLATION_SECRET=uuid.uuid4().hex,
        PYTHONPATH=os.pathsep.join([str(SUPPORT), str(REPO)]), **extra_env,
    )
    command = [sys.executable, "-m", "crawler.cli", "crawl", *args, "--json"]
    with LeakNamespace(allowed) as namespace:
        with namespace.capture() as capture:
            result = namespace.run(command, env=env, cwd=REPO, timeout=600)
            time.sleep(0.5)  # the last FIN/ACKs
        packets = list(capture.packets)
        relayed = {port: relay.connections for port, relay in namespace.relays.items()}
        # the control: the same capture sees a leak when there is one (a lookup and two direct connections)
        probe = (
            "import socket\n"
            "try: socket.getaddrinfo('leak-probe.example', 80)\nexcept OSError: pass\n"
            "for family, address in ((socket.AF_INET, ('192.0.2.7', 80)), (socket.AF_INET6, ('2001:db8::7', 80))):\n"
            "    s = socket.socket(family); s.settimeout(1)\n"
            "    try: s.connect(address)\n    except OSError: pass\n"
        )
        with namespace.capture() as control:
            namespace.run([sys.executable, "-c", probe], timeout=60)
            time.sleep(0.3)
        leaks_seen = namespace.unexpected(control.packets)
        unexpected = namespace.unexpected(packets)
    logs = {site: lab_log(tor_lab, site, since[site])["requests"] for site in since}
    calls = [json.loads(line) for line in socket_log.read_text().splitlines()] if socket_log.exists() else []
    return {
        "result": result, "packets": packets, "unexpected": unexpected, "relayed": relayed, "allowed": allowed,
        "leaks_seen": leaks_seen, "logs": logs, "calls": calls,
    }


@pytest.fixture(scope="module")
def namespace_crawl(tor_lab, es_node, tmp_path_factory):
    """One plain crawl of the two inspect sites and a fixture site, inside the leak namespace, fully recorded."""
    seeds = [f"http://{tor_lab.onions[name]}/" for name in ("inspect", "inspect2", "directory")]
    args = [*[arg for url in seeds for arg in ("--url", url)], "--depth", "3"]
    return crawl_in_namespace(tor_lab, es_node, tmp_path_factory.mktemp("leaks"), args)


@pytest.fixture(scope="module")
def browser_namespace_crawl(tor_lab, es_node, tmp_path_factory):
    """A crawl whose inspect site is rendered in Chromium (its twin fetched plainly), inside the leak namespace; the
    browser's contexts use the lab client's extra SOCKS ports, relayed too."""
    seeds = [tor_lab.url("inspect"), tor_lab.url("inspect2")]
    args = [*[arg for url in seeds for arg in ("--url", url)], "--depth", "2"]
    args += ["--render-site", tor_lab.onions["inspect"]]
    ports = list(tor_lab.extra_socks_ports)
    return crawl_in_namespace(tor_lab, es_node, tmp_path_factory.mktemp("leaks-browser"), args, ports,
                              DARKCRAWL_RENDER_SOCKS=",".join(f"127.0.0.1:{port}" for port in ports))


def test_crawl_in_a_namespace_reaches_nothing_but_tor(namespace_crawl, tor_lab):
    result = namespace_crawl["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["pages"] >= 10 and summary["indexed"] == summary["pages"], summary
    assert namespace_crawl["packets"], "the capture saw nothing: it would prove nothing"
    assert namespace_crawl["unexpected"] == [], "packets other than TCP to Tor/Elasticsearch on loopback"
    assert namespace_crawl["relayed"][tor_lab.socks_port] >= 1, "nothing went through Tor's SOCKS port"


def test_the_capture_sees_a_leak_when_there_is_one(namespace_crawl):
    seen = " ".join(namespace_crawl["leaks_seen"])
    assert ":53" in seen, "a DNS query would go unseen"
    assert "192.0.2.7:80" in seen and "2001:db8::7:80" in seen, "a direct connection would go unseen"


def test_the_crawler_resolves_no_name_and_connects_only_to_tor_and_elasticsearch(namespace_crawl):
    calls = namespace_crawl["calls"]
    assert any(call["event"] == "socket.connect" for call in calls), "the audit hook did not load"
    allowed = {f"('127.0.0.1', {port})" for port in namespace_crawl["allowed"]}
    connects = {call["target"] for call in calls if call["event"] == "socket.connect"}
    assert connects <= allowed, connects - allowed
    lookups = {call["target"] for call in calls if call["event"] != "socket.connect"}
    assert lookups <= {"'127.0.0.1'", "'localhost'", "b'127.0.0.1'"}, lookups
    assert not [call for call in calls if ".onion" in call["target"]]


def test_headers_name_no_crawler_and_the_user_agent_is_always_the_same(namespace_crawl):
    requests = namespace_crawl["logs"]["inspect"] + namespace_crawl["logs"]["inspect2"]
    assert len(requests) >= 8, requests
    agents = {headers_of(entry).get("user-agent") for entry in requests}
    assert agents == {default_settings.USER_AGENT}
    for entry in requests:
        for name, value in entry["headers"]:
            assert not NAMES_THAT_MUST_NOT_APPEAR.search(f"{name}: {value}"), (entry["path"], name, value)
    # the header set is the same on every request (a browser's, in a fixed order), whatever the page
    shapes = {tuple(name.lower() for name, _ in entry["headers"] if name.lower() not in ("cookie", "referer"))
              for entry in requests}
    assert len(shapes) == 1, shapes


def test_cookies_stay_with_the_site_that_set_them(namespace_crawl, tor_lab):
    logs = namespace_crawl["logs"]
    for own, other in (("inspect", "inspect2"), ("inspect2", "inspect")):
        set_at = [entry["time"] for entry in logs[own] if entry["path"] == "/set-cookie"]
        assert set_at, f"{own}'s /set-cookie was not fetched: the test would prove nothing"
        # control: the site's own cookie comes back to it, so cookies do work
        later_own = [headers_of(entry).get("cookie", "") for entry in logs[own] if entry["time"] > set_at[0]]
        assert any(f"probe_{own}={own}-token" in cookie for cookie in later_own), later_own
        # ... and never goes to the other site, not even the Domain=.onion tracker, though it was asked after
        later_other = [entry for entry in logs[other] if entry["time"] > set_at[0]]
        assert later_other, f"{other} was not fetched after {own} set its cookies: the test would prove nothing"
        for entry in logs[other]:
            cookie = headers_of(entry).get("cookie", "")
            assert f"probe_{own}=" not in cookie and "supercookie" not in cookie, (other, entry["path"], cookie)
    for entry in logs["inspect"] + logs["inspect2"]:
        assert "supercookie" not in headers_of(entry).get("cookie", "")


def test_no_referer_crosses_sites(namespace_crawl, tor_lab):
    logs = namespace_crawl["logs"]
    for site in ("inspect", "inspect2"):
        own_host = tor_lab.onions[site]
        referers = [headers_of(entry).get("referer") for entry in logs[site]]
        assert any(referers), "no Referer at all, even within the site: the test would prove nothing"
        for referer in filter(None, referers):
            assert urlsplit(referer).hostname == own_host, (site, referer)
        assert [entry for entry in logs[site] if entry["path"] == "/from-peer"], "the cross-site link was not followed"


def test_media_is_never_requested_by_extension_and_never_read(namespace_crawl):
    requests = namespace_crawl["logs"]["inspect"] + namespace_crawl["logs"]["inspect2"]
    paths = {entry["path"] for entry in requests}
    assert not paths & {"/media/photo.jpg", "/media/clip.mp4", "/media/inline.png", "/media/inline.webm",
                        "/media/source.mp4"}, paths


def test_rendering_crawl_in_a_namespace_reaches_nothing_but_tor(browser_namespace_crawl, tor_lab):
    crawl = browser_namespace_crawl
    result = crawl["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["pages"] >= 4, summary
    rendered = crawl["logs"]["inspect"]
    assert rendered, "the rendered site received nothing: the test would prove nothing"
    assert crawl["unexpected"] == [], "packets other than TCP to Tor/Elasticsearch on loopback"
    assert sum(crawl["relayed"][port] for port in tor_lab.extra_socks_ports) >= 1, "the browser did not use Tor"
    seen = " ".join(crawl["leaks_seen"])
    assert ":53" in seen and "192.0.2.7:80" in seen


def test_the_browser_sends_the_same_user_agent_and_names_no_crawler(browser_namespace_crawl):
    requests = browser_namespace_crawl["logs"]["inspect"] + browser_namespace_crawl["logs"]["inspect2"]
    assert {headers_of(entry).get("user-agent") for entry in requests} == {default_settings.USER_AGENT}
    for entry in requests:
        for name, value in entry["headers"]:
            assert not NAMES_THAT_MUST_NOT_APPEAR.search(f"{name}: {value}"), (entry["path"], name, value)
            assert "headless" not in f"{name}: {value}".lower(), (entry["path"], name, value)
    # media the page embeds is never fetched by the browser either
    paths = {entry["path"] for entry in browser_namespace_crawl["logs"]["inspect"]}
    assert not paths & {"/media/inline.png", "/media/inline.webm", "/media/source.mp4"}, paths
